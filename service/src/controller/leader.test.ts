// Leader election: the lease rules as a table, and two electors on one lease store never
// lead at the same time.
import { describe, expect, it } from 'vitest';
import { FakeCluster } from '#test-support/fake-cluster';
import type { LeaseRecord } from './cluster.ts';
import { LeaderElector, leaseStep } from './leader.ts';

const lease = (holder: string | undefined, renewTime: number): LeaseRecord => ({
  holderIdentity: holder,
  acquireTime: 0,
  renewTime,
  leaseDurationMs: 15_000,
  leaseTransitions: 2,
  resourceVersion: '7',
});

describe('lease rules', () => {
  it.each<[string, LeaseRecord | undefined, number, string]>([
    ['no lease yet: create it', undefined, 1000, 'create'],
    ['held by me: renew', lease('me', 0), 5000, 'renew'],
    ['held by another, fresh: wait', lease('other', 10_000), 20_000, 'wait'],
    ['held by another, expired: take over', lease('other', 0), 15_001, 'acquire'],
    ['released (empty holder): take over', lease('', 10_000), 11_000, 'acquire'],
  ])('%s', (_name, current, now, op) => {
    expect(leaseStep(current, 'me', now, 15_000).op).toBe(op);
  });

  it('a takeover counts a transition and keeps the version it read', () => {
    const step = leaseStep(lease('other', 0), 'me', 20_000, 15_000);
    expect(step.op === 'acquire' && step.next).toMatchObject({
      holderIdentity: 'me',
      leaseTransitions: 3,
      acquireTime: 20_000,
      resourceVersion: '7',
    });
  });
});

describe('LeaderElector', () => {
  const config = { name: 'ctl', durationMs: 15_000 };

  it('two replicas never lead at once, and the standby takes over when the leader stops renewing', async () => {
    const cluster = new FakeCluster();
    const a = new LeaderElector(cluster, config, 'a');
    const b = new LeaderElector(cluster, config, 'b');
    for (let t = 0; t <= 30_000; t += 5000) {
      await a.step(t);
      await b.step(t);
      expect([a.isLeader(t), b.isLeader(t)].filter(Boolean)).toHaveLength(1);
    }
    expect(a.isLeader(30_000)).toBe(true);
    // a stops renewing (hung or partitioned): it stops acting on its own once the lease runs out…
    expect(a.isLeader(45_000)).toBe(false);
    // …and b takes over only after that.
    await b.step(44_000);
    expect(b.isLeader(44_000)).toBe(false);
    await b.step(45_001);
    expect(b.isLeader(45_001)).toBe(true);
    expect(cluster.leases.get('ctl')).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('a lost race (the lease changed since it was read) is not leadership', async () => {
    const cluster = new FakeCluster();
    await cluster.createLease('ctl', lease('other', 0));
    const read = cluster.readLease.bind(cluster);
    // Someone renews between our read and our write.
    cluster.readLease = async (name) => {
      const seen = await read(name);
      await cluster.replaceLease(name, { ...(seen as LeaseRecord), renewTime: 99_000 });
      return seen;
    };
    const me = new LeaderElector(cluster, config, 'me');
    expect(await me.step(100_000)).toBe(false);
    expect(cluster.leases.get('ctl')?.holderIdentity).toBe('other');
  });

  it('releasing hands the lease over at once', async () => {
    const cluster = new FakeCluster();
    const a = new LeaderElector(cluster, config, 'a');
    const b = new LeaderElector(cluster, config, 'b');
    await a.step(0);
    await a.release(1000);
    expect(a.isLeader(1000)).toBe(false);
    expect(await b.step(2000)).toBe(true);
  });
});
