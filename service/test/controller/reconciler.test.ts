// The controller against a real redis-server, one tick at a time with its own clock:
// stuck groups are flagged with the right reason soon after the sustain period, a healthy
// group under a flood never is, stale groups are collected, and metrics show every group.
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { startThrowawayRedis } from '#test-support/throwaway-redis';
import type { StuckReason } from '#contract';
import type { RemediationPolicy } from '../../src/config/controller.ts';
import type { Action } from '../../src/controller/index.ts';
import { POLL, PREFIX, addEntries, createGroup, harness, policy, read, redis } from './harness.ts';

describe('a group that stops acknowledging', () => {
  it.each<[StuckReason, Partial<RemediationPolicy>, (key: string) => Promise<void>]>([
    ['pending_entries', {}, async (key) => void (await read(key, 'rt-stuck', 600, false))],
    ['oldest_pending_age', { oldestPendingAgeMs: 200 }, async (key) => void (await read(key, 'rt-stuck', 10, false))],
    [
      'lag_growing_idle_consumer',
      { consumerIdleMs: 300 },
      async (key) => {
        await read(key, 'rt-stuck', 1000, true); // caught up and acknowledged, then goes silent
        await addEntries(key, 5);
      },
    ],
  ])('is flagged for %s within two poll intervals after the sustain period', async (reason, over, stall) => {
    const h = harness({ policy: over, pods: ['rt-stuck', 'rt-ok'] });
    await createGroup(h.streamKey, 'rt-stuck');
    await createGroup(h.streamKey, 'rt-ok');
    await addEntries(h.streamKey, 700);
    await read(h.streamKey, 'rt-ok', 1000, true);
    await stall(h.streamKey);

    let stuckFrom: number | undefined;
    let flagged: { at: number; action: Action } | undefined;
    for (let tick = 0; tick < 200 && flagged === undefined; tick++) {
      h.clock.now += POLL;
      if (reason === 'lag_growing_idle_consumer') await addEntries(h.streamKey, 3); // producers keep writing
      await read(h.streamKey, 'rt-ok', 1000, true); // the healthy instance keeps up
      const report = await h.reconciler.tick();
      stuckFrom ??= h.reconciler.history.stuckSince[`${PREFIX}:rt-stuck`] === undefined ? undefined : h.clock.now;
      const remediation = report.actions.find((a) => a.kind === 'remediate');
      if (remediation !== undefined) flagged = { at: h.clock.now, action: remediation };
      await sleep(25); // let real idle time pass in Redis
    }
    expect(flagged?.action).toMatchObject({ kind: 'remediate', pod: 'rt-stuck', reason, action: 'evict' });
    const sustain = { ...policy, ...over }.sustainMs;
    expect((flagged?.at ?? 0) - (stuckFrom ?? 0)).toBeGreaterThanOrEqual(sustain);
    expect((flagged?.at ?? 0) - (stuckFrom ?? 0)).toBeLessThanOrEqual(sustain + 2 * POLL);
    expect(h.cluster.restarts).toEqual([{ op: 'evict', pod: 'rt-stuck' }]);
  });
});

describe('a healthy group under a flood', () => {
  it('is never flagged, even with no sustain period at all', async () => {
    const h = harness({ policy: { sustainMs: 0, consumerIdleMs: 600 }, pods: ['rt-busy', 'rt-other'] });
    await createGroup(h.streamKey, 'rt-busy');
    const total = 20_000;
    const reader = new Redis(inject('redisUrl'), { protocol: 2 });
    let consumed = 0;
    const consuming = (async () => {
      // What the service does: XREADGROUP COUNT 50 BLOCK, fan out, XACK.
      while (consumed < total) {
        const reply = (await reader.xreadgroup(
          'GROUP',
          `${PREFIX}:rt-busy`,
          'rt-busy',
          'COUNT',
          50,
          'BLOCK',
          100,
          'STREAMS',
          h.streamKey,
          '>',
        )) as [string, [string, string[]][]][] | null;
        const ids = reply?.[0]?.[1].map(([id]) => id) ?? [];
        if (ids.length > 0) await reader.xack(h.streamKey, `${PREFIX}:rt-busy`, ...ids);
        consumed += ids.length;
      }
    })();
    const producing = (async () => {
      for (let sent = 0; sent < total; sent += 1000) await addEntries(h.streamKey, 1000);
    })();

    const actions: Action[] = [];
    let busiest = 0;
    let done = false;
    void Promise.all([consuming, producing]).then(() => (done = true));
    while (!done) {
      h.clock.now += POLL;
      const report = await h.reconciler.tick();
      actions.push(...report.actions);
      if (report.observations.redis === 'ok')
        for (const g of report.observations.groups) busiest = Math.max(busiest, (g.lag ?? 0) + g.pending);
    }
    await consuming;
    await reader.quit();
    expect(consumed).toBe(total);
    expect(busiest).toBeGreaterThan(0); // the controller did see the backlog move through
    expect(actions).toEqual([]);
  });
});

describe('stale groups', () => {
  it('groups of vanished pods are destroyed; live and foreign groups are kept', async () => {
    const h = harness({ policy: { staleGroupGraceMs: 0 }, pods: ['rt-alive'] });
    await createGroup(h.streamKey, 'rt-alive');
    await createGroup(h.streamKey, 'rt-gone-read');
    await createGroup(h.streamKey, 'rt-gone-never');
    await redis.xgroup('CREATE', h.streamKey, 'analytics', '$');
    await addEntries(h.streamKey, 5);
    await read(h.streamKey, 'rt-gone-read', 5, false);

    await h.reconciler.tick();
    const groups = ((await redis.call('XINFO', 'GROUPS', h.streamKey)) as unknown[][]).map((g) => String(g[1]));
    expect(groups.sort()).toEqual(['analytics', `${PREFIX}:rt-alive`]);
    expect((await h.metrics.staleGroupsCollected.get()).values[0]?.value).toBe(2);
  });
});

describe('metrics', () => {
  it('show every group of the stream, and drop groups that are gone', async () => {
    const h = harness({ pods: ['rt-a', 'rt-b', 'rt-c'] });
    for (const pod of ['rt-a', 'rt-b', 'rt-c']) await createGroup(h.streamKey, pod);
    await addEntries(h.streamKey, 30);
    await read(h.streamKey, 'rt-a', 30, true);
    await read(h.streamKey, 'rt-b', 12, false);
    await h.reconciler.tick();
    const text = await h.metrics.registry.metrics();
    expect(text).toMatch(/^realtime_stream_length 30$/m);
    expect(text).toMatch(/^realtime_stream_maxlen 5000$/m);
    for (const pod of ['rt-a', 'rt-b', 'rt-c']) {
      for (const name of [
        'realtime_stream_group_pending',
        'realtime_stream_group_oldest_pending_age_seconds',
        'realtime_stream_group_lag',
      ]) {
        expect(text).toContain(`${name}{group="${PREFIX}:${pod}"}`);
      }
    }
    expect(text).toMatch(new RegExp(`^realtime_stream_group_pending\\{group="${PREFIX}:rt-b"\\} 12$`, 'm'));
    expect(text).toMatch(new RegExp(`^realtime_stream_group_lag\\{group="${PREFIX}:rt-c"\\} 30$`, 'm'));
    expect(text).toContain(`realtime_stream_group_consumer_idle_seconds{group="${PREFIX}:rt-a"}`);
    expect(text).toMatch(/^nodejs_heap_size_total_bytes /m); // default Node metrics on the controller's own registry

    await redis.xgroup('DESTROY', h.streamKey, `${PREFIX}:rt-c`);
    await h.reconciler.tick();
    expect(await h.metrics.registry.metrics()).not.toContain(`group="${PREFIX}:rt-c"`);
  });
});

describe('groups of pods that are gone', () => {
  it('stop being exported once the eviction worked, though Redis keeps them until collection', async () => {
    const h = harness({ policy: { staleGroupGraceMs: 3_600_000 }, pods: ['rt-stuck', 'rt-ok'] });
    const stuck = await createGroup(h.streamKey, 'rt-stuck');
    const ok = await createGroup(h.streamKey, 'rt-ok');
    await addEntries(h.streamKey, 700);
    await read(h.streamKey, 'rt-stuck', 600, false);
    await read(h.streamKey, 'rt-ok', 1000, true);
    const exported = async () => {
      const text = await h.metrics.registry.metrics();
      return [stuck, ok].filter((g) => text.includes(`realtime_stream_group_pending{group="${g}"}`));
    };

    await h.reconciler.tick();
    expect(await exported()).toEqual([stuck, ok]);
    for (let tick = 0; tick < 20 && h.cluster.restarts.length === 0; tick++) {
      h.clock.now += POLL;
      await h.reconciler.tick();
    }
    expect(h.cluster.restarts).toEqual([{ op: 'evict', pod: 'rt-stuck' }]);
    await h.reconciler.tick(); // the evicted pod is terminating
    expect(await exported()).toEqual([ok]);

    h.cluster.pods = h.cluster.pods.filter((p) => p.name !== 'rt-stuck'); // and then gone
    h.clock.now += POLL;
    await h.reconciler.tick();
    expect(await exported()).toEqual([ok]);
    const groups = ((await redis.call('XINFO', 'GROUPS', h.streamKey)) as unknown[][]).map((g) => String(g[1]));
    expect(groups).toContain(stuck); // not collected yet: only its export stopped
  });
});

describe('remediation counters', () => {
  it('are exported at 0 from the first poll, so the first failure shows as an increase', async () => {
    const h = harness({ pods: ['rt-a'] });
    await createGroup(h.streamKey, 'rt-a');
    await h.reconciler.tick();
    const text = await h.metrics.registry.metrics();
    for (const result of ['done', 'backoff', 'failed'])
      expect(text).toContain(
        `controller_remediations_total{action="evict",reason="pending_entries",result="${result}"} 0`,
      );
    expect(text).toContain('controller_skipped_remediations_total{reason="budget_exhausted"} 0');
    expect(text).not.toContain('action="delete"'); // only the action this controller would take
  });
});

describe('a Redis outage', () => {
  it('is an outage, not a stuck consumer: nothing is restarted and the error is counted', async () => {
    const server = await startThrowawayRedis();
    try {
      const h = harness({
        url: server.url,
        policy: { pendingEntries: 5, sustainMs: 1000 },
        pods: ['rt-stuck', 'rt-ok'],
      });
      const direct = new Redis(server.url, { protocol: 2 });
      await direct.xgroup('CREATE', h.streamKey, `${PREFIX}:rt-stuck`, '$', 'MKSTREAM');
      for (let i = 0; i < 10; i++) await direct.xadd(h.streamKey, '*', 'n', String(i));
      await direct.xreadgroup('GROUP', `${PREFIX}:rt-stuck`, 'rt-stuck', 'COUNT', 10, 'STREAMS', h.streamKey, '>');
      await direct.quit();
      await h.reconciler.tick(); // stuck (10 pending > 5), not yet for the sustain period
      expect(h.reconciler.history.stuckSince[`${PREFIX}:rt-stuck`]).toBeDefined();
      expect(await h.metrics.registry.metrics()).toContain(`group="${PREFIX}:rt-stuck"`);

      await server.kill();
      h.clock.now += 5000; // the sustain period has passed, but Redis is gone
      const report = await h.reconciler.tick();
      expect(report.observations.redis).toBe('unreachable');
      expect(report.actions).toEqual([
        expect.objectContaining({ kind: 'skip', reason: 'redis_unreachable', pod: 'rt-stuck' }),
      ]);
      expect(h.cluster.restarts).toEqual([]);
      expect((await h.metrics.observeErrors.get()).values[0]?.value).toBe(1);
      expect(await h.metrics.registry.metrics()).not.toContain(`group="${PREFIX}:rt-stuck"`); // unknown, not frozen
    } finally {
      await server.stop();
    }
  });
});
