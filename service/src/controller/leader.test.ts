// Leader election with client-go's semantics: the state machine as tables (renewTime is never
// compared with the local clock; expiry runs from when a record change was seen; a leader lapses
// at its renew deadline), then two electors on one lease store that never act at once.
import { describe, expect, it } from 'vitest';
import { FakeCluster } from '#test-support/fake-cluster';
import type { LeaseRecord } from './cluster.ts';
import {
  checkElectionSettings,
  initialElection,
  isLeading,
  LeaderElector,
  leaseStep,
  observeLease,
  type ElectionState,
} from './leader.ts';

const S = 1000;
const DAY = 86_400 * S;
const settings = { leaseDurationMs: 15 * S, renewDeadlineMs: 10 * S, retryPeriodMs: 2 * S };

const lease = (holder: string | undefined, renewTime: number, over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity: holder,
  acquireTime: 0,
  renewTime,
  leaseDurationMs: 15 * S,
  leaseTransitions: 2,
  resourceVersion: '7',
  ...over,
});

/** Reads `record` at each of `times` (the holder never renews), returning each round's op. */
function rounds(record: LeaseRecord | undefined, times: number[], state: ElectionState = initialElection): string[] {
  let s = state;
  return times.map((now) => {
    s = observeLease(s, record, now);
    return leaseStep(s, 'me', now, settings).op;
  });
}

describe('a candidate judges expiry on its own clock', () => {
  it.each<[string, LeaseRecord | undefined, number[], string[]]>([
    ['no lease yet: create it', undefined, [1000], ['create']],
    ['held by me: renew', lease('me', 0), [5000], ['renew']],
    ['released (empty holder): take over at once', lease('', 10 * S), [11 * S], ['acquire']],
    [
      'renewTime a day in the past: still a full lease duration from first seeing it',
      lease('other', -DAY),
      [0, 14 * S, 15 * S],
      ['wait', 'wait', 'acquire'],
    ],
    [
      'renewTime a day in the future: taken over a lease duration after it stopped changing, not never',
      lease('other', DAY),
      [0, 14 * S, 15 * S],
      ['wait', 'wait', 'acquire'],
    ],
    [
      "the holder's own lease duration counts, not the candidate's",
      lease('other', 0, { leaseDurationMs: 40 * S }),
      [0, 39 * S, 40 * S],
      ['wait', 'wait', 'acquire'],
    ],
  ])('%s', (_name, record, times, ops) => {
    expect(rounds(record, times)).toEqual(ops);
  });

  it('every change of the record restarts the wait, whatever renewTime says', () => {
    let s = initialElection;
    const ops: string[] = [];
    for (let t = 0; t <= 60 * S; t += 2 * S) {
      // The holder renews every 2 s with a clock an hour behind ours.
      s = observeLease(s, lease('other', t - 3_600 * S), t);
      ops.push(leaseStep(s, 'me', t, settings).op);
    }
    expect(new Set(ops)).toEqual(new Set(['wait']));
    expect(leaseStep(s, 'me', 60 * S + 15 * S, settings)).toMatchObject({ op: 'acquire' });
  });

  it('a takeover counts a transition and keeps the version it read', () => {
    const s = observeLease(initialElection, lease('other', 0), 0);
    expect(leaseStep(s, 'me', 20 * S, settings)).toMatchObject({
      op: 'acquire',
      next: { holderIdentity: 'me', leaseTransitions: 3, acquireTime: 20 * S, resourceVersion: '7' },
    });
  });
});

describe('a leader acts only within its renew deadline', () => {
  it.each([
    ['never renewed', undefined, 0, false],
    ['renewal sent just now', 100 * S, 100 * S, true],
    ['renewal sent 9.999 s ago', 100 * S, 109_999, true],
    ['renewal sent 10 s ago: the deadline has passed', 100 * S, 110 * S, false],
  ])('%s', (_name, renewedAt, now, leading) => {
    expect(isLeading({ ...initialElection, renewedAt }, now, settings)).toBe(leading);
  });

  it.each([
    ['a renew deadline as long as the lease', { ...settings, renewDeadlineMs: 15 * S }],
    ['a retry period as long as the renew deadline', { ...settings, retryPeriodMs: 10 * S }],
    ['no retry period', { ...settings, retryPeriodMs: 0 }],
  ])('refuses %s', (_name, bad) => {
    expect(() => checkElectionSettings(bad)).toThrow();
  });
});

describe('LeaderElector', () => {
  const config = { name: 'ctl', ...settings };
  const clock = () => {
    const c = { now: 0, read: () => c.now };
    return c;
  };

  it('two replicas never lead at once; the standby takes over only after the leader has stopped acting', async () => {
    const cluster = new FakeCluster();
    const c = clock();
    const a = new LeaderElector(cluster, config, 'a', c.read);
    const b = new LeaderElector(cluster, config, 'b', c.read);
    for (; c.now <= 30 * S; c.now += 2 * S) {
      await a.step();
      await b.step();
      expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    }
    const lastRenewal = c.now - 2 * S;
    expect(a.isLeader()).toBe(true);
    // a stops renewing (hung or cut off): it stops acting at its renew deadline…
    expect(a.isLeader(lastRenewal + settings.renewDeadlineMs)).toBe(false);
    // …and b, which saw the last renewal at the same moment, waits the full lease duration.
    c.now = lastRenewal + settings.leaseDurationMs - 1;
    await b.step();
    expect(b.isLeader()).toBe(false);
    c.now = lastRenewal + settings.leaseDurationMs;
    await b.step();
    expect(b.isLeader()).toBe(true);
    expect(cluster.leases.get('ctl')).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('a lost race (the lease changed since it was read) is not leadership, not even for the holder', async () => {
    const cluster = new FakeCluster();
    const c = clock();
    const me = new LeaderElector(cluster, config, 'me', c.read);
    expect(await me.step()).toBe(true);
    const read = cluster.readLease.bind(cluster);
    // Someone writes between our read and our write.
    cluster.readLease = async (name) => {
      const seen = await read(name);
      await cluster.replaceLease(name, { ...(seen as LeaseRecord), holderIdentity: 'other' });
      return seen;
    };
    c.now += 2 * S;
    expect(await me.step()).toBe(false);
    expect(me.isLeader()).toBe(false);
    expect(cluster.leases.get('ctl')?.holderIdentity).toBe('other');
  });

  it('releasing hands the lease over at once', async () => {
    const cluster = new FakeCluster();
    const c = clock();
    const a = new LeaderElector(cluster, config, 'a', c.read);
    const b = new LeaderElector(cluster, config, 'b', c.read);
    await a.step();
    c.now = 1000;
    await a.release();
    expect(a.isLeader()).toBe(false);
    c.now = 2000;
    expect(await b.step()).toBe(true);
  });
});
