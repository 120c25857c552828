// The policy status: figures for `kubectl get`, conditions that keep their transition time.
import { describe, expect, it } from 'vitest';
import { emptyHistory, type Observations } from './model.ts';
import { policyStatus, remediationsFromStatus } from './status.ts';

const observations: Observations = {
  redis: 'ok',
  stream: { key: 's', length: 4800, maxLen: 5000 },
  groups: [
    {
      group: 'rc:a',
      pod: 'a',
      pending: 12,
      oldestPendingAgeMs: 1200,
      lag: 3,
      entriesRead: 10,
      consumerIdleMs: 400,
      consumers: [],
    },
    {
      group: 'rc:b',
      pod: 'b',
      pending: 700,
      oldestPendingAgeMs: 41_000,
      lag: 90,
      entriesRead: 10,
      consumerIdleMs: 41_000,
      consumers: [],
    },
  ],
  pods: undefined,
};
const base = {
  observations,
  history: emptyHistory,
  results: new Map(),
  degraded: undefined,
  generation: 2,
  previousConditions: [],
  now: new Date('2026-01-01T00:00:00Z'),
};

describe('policy status', () => {
  it('carries the worst group figures for the printer columns', () => {
    expect(policyStatus(base)).toMatchObject({
      streamLength: 4800,
      maxPending: 700,
      maxOldestPendingAgeSeconds: 41,
      maxLag: 90,
    });
  });

  it('keeps a condition transition time while its status holds, and moves it when it flips', () => {
    const first = policyStatus(base);
    const same = policyStatus({
      ...base,
      previousConditions: first.conditions ?? [],
      now: new Date('2026-01-01T00:05:00Z'),
    });
    expect(same.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:00:00.000Z');
    const down = policyStatus({
      ...base,
      observations: { redis: 'unreachable', error: 'ECONNREFUSED', pods: undefined },
      previousConditions: same.conditions ?? [],
      now: new Date('2026-01-01T00:06:00Z'),
    });
    expect(down.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'RedisUnreachable',
      lastTransitionTime: '2026-01-01T00:06:00.000Z',
    });
  });

  it('round-trips the recent remediations a new leader inherits, dropping those older than an hour', () => {
    const now = Date.parse('2026-01-01T02:00:00Z');
    const history = {
      ...emptyHistory,
      remediations: [
        {
          pod: 'a',
          group: 'rc:a',
          action: 'evict' as const,
          reason: 'pending_entries' as const,
          at: now - 2 * 3_600_000,
          dryRun: false,
          podUid: undefined,
        },
        {
          pod: 'b',
          group: 'rc:b',
          action: 'evict' as const,
          reason: 'oldest_pending_age' as const,
          at: now - 60_000,
          dryRun: false,
          podUid: undefined,
        },
      ],
    };
    const status = policyStatus({ ...base, history, now: new Date(now) });
    expect(status.lastAction).toBe('evict b');
    expect(remediationsFromStatus(status, now)).toEqual([history.remediations[1]]);
  });
});
