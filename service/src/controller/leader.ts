// Leader election on a coordination.k8s.io Lease, so two controller replicas never act at
// once. The rule for the next lease is a pure function; LeaderElector applies it through
// the ClusterPort with optimistic concurrency (a lost race is a 409, i.e. "not leader").
import type { ClusterPort, LeaseRecord } from './cluster.ts';

export type LeaseStep =
  | { readonly op: 'create' | 'renew' | 'acquire'; readonly next: LeaseRecord }
  | { readonly op: 'wait'; readonly holder: string };

export function leaseStep(
  current: LeaseRecord | undefined,
  identity: string,
  now: number,
  durationMs: number,
): LeaseStep {
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
  const lastRenew = current.renewTime ?? current.acquireTime ?? 0;
  if (holder === '' || now - lastRenew > current.leaseDurationMs) {
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
  return { op: 'wait', holder };
}

export class LeaderElector {
  readonly #cluster: ClusterPort;
  readonly #name: string;
  readonly #identity: string;
  readonly #durationMs: number;
  #renewedAt: number | undefined;

  constructor(cluster: ClusterPort, lease: { name: string; durationMs: number }, identity: string) {
    this.#cluster = cluster;
    this.#name = lease.name;
    this.#durationMs = lease.durationMs;
    this.#identity = identity;
  }

  /** Leader only while the last successful renewal is younger than the lease itself. */
  isLeader(now: number): boolean {
    return this.#renewedAt !== undefined && now - this.#renewedAt < this.#durationMs;
  }

  /** One election round; call it a few times per lease duration. Errors leave the old state to expire. */
  async step(now: number): Promise<boolean> {
    const current = await this.#cluster.readLease(this.#name);
    const step = leaseStep(current, this.#identity, now, this.#durationMs);
    if (step.op === 'wait') {
      this.#renewedAt = undefined;
      return false;
    }
    const won =
      step.op === 'create'
        ? await this.#cluster.createLease(this.#name, step.next)
        : await this.#cluster.replaceLease(this.#name, step.next);
    this.#renewedAt = won ? now : undefined;
    return won;
  }

  /** Hands the lease back on shutdown so a standby takes over without waiting it out. */
  async release(now: number): Promise<void> {
    if (!this.isLeader(now)) return;
    const current = await this.#cluster.readLease(this.#name);
    if (current?.holderIdentity !== this.#identity) return;
    await this.#cluster.replaceLease(this.#name, {
      ...current,
      holderIdentity: '',
      renewTime: now,
      leaseDurationMs: 1000,
    });
    this.#renewedAt = undefined;
  }
}
