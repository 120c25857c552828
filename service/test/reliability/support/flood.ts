// A producer flood over HTTP, as the match services would send it: several concurrent
// publishers, each posting to one instance after another. It records every outcome, so a
// test can check that each 202-accepted id reaches the clients and nothing else happened.
import { request } from 'node:http';

export interface FloodOutcome {
  /** Ids answered 202, in the order the answers came. */
  readonly accepted: string[];
  /** Status → count for every non-202 answer. */
  readonly statuses: Map<number, number>;
  /** Posts that got no HTTP answer (instance gone mid-request): outcome unknown. */
  socketErrors: number;
}

export interface FloodOptions {
  /** Instances to post to, round robin; an instance that fails at the socket is skipped from then on. */
  readonly urls: readonly string[];
  readonly token: string;
  readonly total: number;
  readonly concurrency: number;
  readonly event: (n: number) => { matchId: string; action: string; data?: Record<string, unknown> };
  /** Called after every answer, e.g. to inject a fault at a chosen point. */
  readonly onProgress?: (outcome: FloodOutcome) => void | Promise<void>;
  /** Pause between posts of one publisher. */
  readonly paceMs?: number;
  /** Stop early when this returns true. */
  readonly until?: () => boolean;
}

function post(url: string, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/realtime/events`,
      {
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function flood(options: FloodOptions): Promise<FloodOutcome> {
  const outcome: FloodOutcome = { accepted: [], statuses: new Map(), socketErrors: 0 };
  const dead = new Set<string>();
  let next = 0;
  let turn = 0;
  const publisher = async () => {
    while (next < options.total && !(options.until?.() ?? false)) {
      const n = next++;
      const live = options.urls.filter((url) => !dead.has(url));
      if (live.length === 0) throw new Error('every instance is gone');
      const url = live[turn++ % live.length] as string;
      try {
        const { status, text } = await post(url, options.token, JSON.stringify(options.event(n)));
        if (status === 202) outcome.accepted.push((JSON.parse(text) as { id: string }).id);
        else outcome.statuses.set(status, (outcome.statuses.get(status) ?? 0) + 1);
      } catch {
        outcome.socketErrors++;
        dead.add(url);
      }
      await options.onProgress?.(outcome);
      if (options.paceMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.paceMs));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, publisher));
  return outcome;
}
