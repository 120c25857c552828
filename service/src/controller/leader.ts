// Leader election on a coordination.k8s.io Lease, with client-go's leaderelection
// semantics, so that at no moment do two controller replicas act:
// - a candidate never compares the holder's renewTime with its own clock (the clocks of two
//   nodes may disagree by any amount); it notes on its own clock when it last saw the record
//   change and takes over only once a full lease duration has passed since then;
// - a leader counts its term from the moment it *sent* its last successful renewal and stops
//   acting once renewDeadline has passed without another, which is before any candidate can
//   have seen the lease run out (renewDeadline < leaseDuration);
// - a round is tried every retryPeriod; a write that lost a race (409) is not leadership.
// The rules are a pure state machine (observeLease, leaseStep, isLeading); LeaderElector
// applies them through the ClusterPort and runs the rounds.
import type { ClusterPort, LeaseRecord } from './cluster.ts';
import { withTimeout } from './timeout.ts';

export interface ElectionSettings {
  /** How long a candidate waits after the record last changed before taking the lease over. */
  readonly leaseDurationMs: number;
  /** How long a leader keeps acting after its last successful renewal was sent. */
  readonly renewDeadlineMs: number;
  /** Time between two rounds (renewals, or a candidate's attempts). */
  readonly retryPeriodMs: number;
}

/** What a replica knows between rounds; all times on its own clock. */
export interface ElectionState {
  /** The record as last read. */
  readonly observed: LeaseRecord | undefined;
  /** When the record was last seen to change. */
  readonly observedAt: number | undefined;
  /** When the last successful create, acquire or renewal was sent. */
  readonly renewedAt: number | undefined;
}

export const initialElection: ElectionState = { observed: undefined, observedAt: undefined, renewedAt: undefined };

/** Holder, times, duration and transitions: a renewal changes at least renewTime. */
function sameRecord(a: LeaseRecord | undefined, b: LeaseRecord | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.holderIdentity === b.holderIdentity &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseDurationMs === b.leaseDurationMs &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/** Folds a fresh read of the lease in: the observation time moves only when the record changed. */
export function observeLease(state: ElectionState, current: LeaseRecord | undefined, now: number): ElectionState {
  if (state.observedAt !== undefined && sameRecord(state.observed, current)) return { ...state, observed: current };
  return { ...state, observed: current, observedAt: now };
}

export type LeaseStep =
  | { readonly op: 'create' | 'renew' | 'acquire'; readonly next: LeaseRecord }
  | { readonly op: 'wait'; readonly holder: string; readonly untilMs: number };

/** What to do after observing: the record's renewTime is written for people, never read. */
export function leaseStep(state: ElectionState, identity: string, now: number, settings: ElectionSettings): LeaseStep {
  const current = state.observed;
  const durationMs = settings.leaseDurationMs;
  if (current === undefined) {
    return {
      op: 'create',
      next: {
        holderIdentity: identity,
        acquireTime: now,
        renewTime: now,
        leaseDurationMs: durationMs,
        leaseTransitions: 0,
        resourceVersion: undefined,
      },
    };
  }
  if (current.holderIdentity === identity) {
    return { op: 'renew', next: { ...current, renewTime: now, leaseDurationMs: durationMs } };
  }
  const holder = current.holderIdentity ?? '';
  // The holder's own duration counts, from when this replica saw its last renewal.
  const expiresAt = (state.observedAt ?? now) + current.leaseDurationMs;
  if (holder !== '' && now < expiresAt) return { op: 'wait', holder, untilMs: expiresAt };
  return {
    op: 'acquire',
    next: {
      ...current,
      holderIdentity: identity,
      acquireTime: now,
      renewTime: now,
      leaseDurationMs: durationMs,
      leaseTransitions: current.leaseTransitions + 1,
    },
  };
}

/** Whether this replica may act at `now`. */
export function isLeading(state: ElectionState, now: number, settings: ElectionSettings): boolean {
  return state.renewedAt !== undefined && now - state.renewedAt < settings.renewDeadlineMs;
}

/** Throws unless renewDeadline < leaseDuration and retryPeriod < renewDeadline, as client-go requires. */
export function checkElectionSettings(settings: ElectionSettings): void {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = settings;
  if (!(renewDeadlineMs < leaseDurationMs))
    throw new Error(
      `the renew deadline (${renewDeadlineMs} ms) must be shorter than the lease duration (${leaseDurationMs} ms)`,
    );
  if (!(retryPeriodMs > 0 && retryPeriodMs < renewDeadlineMs))
    throw new Error(
      `the retry period (${retryPeriodMs} ms) must be positive and shorter than the renew deadline (${renewDeadlineMs} ms)`,
    );
}

export interface ElectorHooks {
  /** Called after every round with its outcome; a failed round passes its error. */
  readonly onRound?: (leading: boolean, error: unknown) => void;
}

export class LeaderElector {
  readonly #cluster: ClusterPort;
  readonly #name: string;
  readonly #identity: string;
  readonly #settings: ElectionSettings;
  readonly #clock: () => number;
  #state: ElectionState = initialElection;
  /** Rounds may outlive their timeout; only the newest one may change the state. */
  #round = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(
    cluster: ClusterPort,
    lease: { readonly name: string } & ElectionSettings,
    identity: string,
    clock: () => number = Date.now,
  ) {
    checkElectionSettings(lease);
    this.#cluster = cluster;
    this.#name = lease.name;
    this.#settings = {
      leaseDurationMs: lease.leaseDurationMs,
      renewDeadlineMs: lease.renewDeadlineMs,
      retryPeriodMs: lease.retryPeriodMs,
    };
    this.#identity = identity;
    this.#clock = clock;
  }

  get identity(): string {
    return this.#identity;
  }

  isLeader(now: number = this.#clock()): boolean {
    return isLeading(this.#state, now, this.#settings);
  }

  /** One election round; errors propagate and leave leadership to lapse. */
  async step(): Promise<boolean> {
    const round = ++this.#round;
    const current = await this.#cluster.readLease(this.#name);
    if (round !== this.#round) return false;
    this.#state = observeLease(this.#state, current, this.#clock());
    const step = leaseStep(this.#state, this.#identity, this.#clock(), this.#settings);
    if (step.op === 'wait') {
      this.#state = { ...this.#state, renewedAt: undefined };
      return false;
    }
    const sentAt = this.#clock();
    const won =
      step.op === 'create'
        ? await this.#cluster.createLease(this.#name, step.next)
        : await this.#cluster.replaceLease(this.#name, step.next);
    if (round !== this.#round) return false;
    // A won write counts from when it was sent, never from its answer. A lost race (409) means
    // someone else wrote the lease since it was read: no leadership, not even a renewal.
    this.#state = { ...this.#state, renewedAt: won ? sentAt : undefined };
    return this.isLeader();
  }

  /**
   * Runs a round every retryPeriod until stop(). A round that hangs (the API unreachable)
   * gives up after the renew deadline, so the loop keeps trying and the leader lapses.
   */
  start(hooks: ElectorHooks = {}): void {
    if (this.#running) return;
    this.#running = true;
    const round = async () => {
      let error: unknown;
      try {
        await withTimeout(this.step(), this.#settings.renewDeadlineMs, 'lease round');
      } catch (caught) {
        error = caught;
      }
      hooks.onRound?.(this.isLeader(), error);
      if (this.#running) this.#timer = setTimeout(() => void round(), this.#settings.retryPeriodMs);
    };
    void round();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#round++; // a round still in flight no longer counts
  }

  /** Hands the lease back on shutdown so a standby takes over without waiting it out. */
  async release(): Promise<void> {
    this.stop();
    const now = this.#clock();
    if (!this.isLeader(now)) return;
    this.#state = { ...this.#state, renewedAt: undefined };
    const current = await this.#cluster.readLease(this.#name);
    if (current?.holderIdentity !== this.#identity) return;
    await this.#cluster.replaceLease(this.#name, {
      ...current,
      holderIdentity: '',
      renewTime: now,
      leaseDurationMs: 1000,
    });
  }
}
