// What the controller's probes answer, on its metrics port. Liveness: every loop (the poll,
// the leader election) finished a round within its bound; a loop stuck on a call that never
// returns fails it, so the kubelet restarts the process, where a tcpSocket probe would see
// the metrics port still listening and call it healthy. Readiness: live, and the first poll
// has finished, so a scrape sees figures for the stream rather than empty gauges.
import type { ProbeResult } from '../metrics/server.ts';

export type ControllerLoop = 'poll' | 'election';

export class ControllerHealth {
  readonly #clock: () => number;
  readonly #startedAt: number;
  readonly #boundsMs: ReadonlyMap<ControllerLoop, number>;
  readonly #lastRound = new Map<ControllerLoop, number>();

  /** `boundsMs`: per loop, the longest it may go without finishing a round. */
  constructor(boundsMs: Partial<Record<ControllerLoop, number>>, clock: () => number = Date.now) {
    this.#clock = clock;
    this.#startedAt = clock();
    this.#boundsMs = new Map(Object.entries(boundsMs) as [ControllerLoop, number][]);
  }

  /** A loop finished a round, whatever its outcome: errors are counted elsewhere, a hang is not. */
  progressed(loop: ControllerLoop): void {
    this.#lastRound.set(loop, this.#clock());
  }

  liveness(): ProbeResult {
    const now = this.#clock();
    const stuck: string[] = [];
    for (const [loop, bound] of this.#boundsMs) {
      const last = this.#lastRound.get(loop);
      const silentMs = now - (last ?? this.#startedAt);
      if (silentMs > bound)
        stuck.push(
          `${loop} loop: ${last === undefined ? 'no round finished' : 'last round finished'} ${silentMs} ms ago (bound ${bound} ms)`,
        );
    }
    return stuck.length === 0
      ? { ok: true, detail: 'every loop is making progress' }
      : { ok: false, detail: stuck.join('; ') };
  }

  readiness(): ProbeResult {
    const live = this.liveness();
    if (!live.ok) return live;
    return this.#lastRound.has('poll')
      ? { ok: true, detail: 'observing the stream' }
      : { ok: false, detail: 'the first poll has not finished yet' };
  }
}

/** The bounds main.ts runs with: generous multiples of each loop's own period. */
export function loopBounds(settings: {
  pollIntervalMs: number;
  observeTimeoutMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}): Record<ControllerLoop, number> {
  return {
    // A poll waits at most the observe timeout for Redis, then the API calls; ten intervals on top.
    poll: settings.observeTimeoutMs + 10 * settings.pollIntervalMs,
    // A round gives up at the renew deadline and the next starts a retry period later.
    election: settings.renewDeadlineMs + 2 * settings.retryPeriodMs,
  };
}
