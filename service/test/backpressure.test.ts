// Slow clients: a client that stops reading fills its socket, then its bounded queue; the
// overflow is dropped and counted (Prometheus and the metrics:sse hash) or the client is
// disconnected, and a fast client beside it still receives every event.
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { SSE_METRICS_HASH } from '#contract';
import { eventually, testStream, token, type TestInstance } from '#test-support/instance';
import { perTest } from '#test-support/per-test';

const { instance, open } = perTest();

async function counter(service: TestInstance, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await service.app.realtime.metrics.registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((value) =>
    Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted),
  );
  return match?.value ?? 0;
}

const payload = { blob: 'x'.repeat(4 * 1024) };

/** Publishes 4 KiB events until `done()` or a bounded count; returns the published ids. */
async function flood(service: TestInstance, done: () => boolean | Promise<boolean>, max = 20_000): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < max && !(await done())) {
    const batch = await Promise.all(
      Array.from({ length: 50 }, () =>
        service.app.realtime.bus.emitRealtimeEvent({ matchId: 'm-slow', action: 'match:updated', data: payload }),
      ),
    );
    ids.push(...batch.map((entry) => entry.id));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return ids;
}

describe('a slow client', () => {
  it('overflows its queue under policy drop: drops are counted in Prometheus and metrics:sse, the client is told resync, a fast client gets everything', async () => {
    const service = await instance(testStream(), { REALTIME_STREAM_MAXLEN: '50000' });
    const admin = await token('admin');
    const slow = await open(service.url, { token: admin });
    const fast = await open(service.url, { token: admin });
    const redis = new Redis(inject('redisUrl'), { protocol: 2 });
    const hashBefore = Number((await redis.hget(SSE_METRICS_HASH, 'dropped')) ?? 0);
    slow.pause();

    const ids = await flood(
      service,
      async () => (await counter(service, 'sse_events_dropped_total', { reason: 'queue_full' })) >= 50,
    );
    await fast.waitForEvents(ids.length, 30_000);
    expect(fast.ids).toEqual(ids);
    // Every event has been fanned out now (the fast client has them all): the count is final.
    const dropped = await counter(service, 'sse_events_dropped_total', { reason: 'queue_full' });
    expect(dropped).toBeGreaterThanOrEqual(50);

    // The hash is flushed once a second; the whole drop count reaches it.
    await eventually(
      async () => Number(await redis.hget(SSE_METRICS_HASH, 'dropped')) - hashBefore >= dropped,
      'metrics:sse dropped to catch up',
    );
    await redis.quit();

    // When it reads again it gets what was queued, nothing twice, nothing out of order:
    // every event was either delivered or counted as dropped.
    slow.resume();
    await eventually(() => slow.ids.length + dropped === ids.length, 'the slow client to drain its queue', 30_000);
    expect(slow.ids).toEqual(ids.filter((id) => slow.ids.includes(id)));
    // The next event it gets is preceded by resync: it knows it missed some.
    const after = await service.app.realtime.bus.emitRealtimeEvent({ matchId: 'm-slow', action: 'match:deleted' });
    await eventually(() => slow.ids.includes(after.id), 'the slow client to see the newest event');
    expect(slow.events.at(-2)?.event).toBe('resync');
    expect(slow.events.at(-1)?.id).toBe(after.id);

    // Each event a client got is one delivery-latency observation, the slow client's late
    // writes included; the resync is not an event and is not observed.
    await fast.waitForEvents(ids.length + 1);
    const latency = await service.app.realtime.metrics.registry
      .getSingleMetric('sse_event_delivery_latency_seconds')
      ?.get();
    const observations = latency?.values.find(
      (value) => 'metricName' in value && value.metricName === 'sse_event_delivery_latency_seconds_count',
    )?.value;
    expect(observations).toBe(fast.ids.length + slow.ids.length);
  }, 60_000);

  it('is disconnected under policy disconnect, with its queued events counted, and resumes losslessly', async () => {
    const service = await instance(testStream(), {
      SSE_OVERFLOW_POLICY: 'disconnect',
      REALTIME_STREAM_MAXLEN: '50000',
    });
    const admin = await token('admin');
    const slow = await open(service.url, { token: admin });
    slow.pause();
    const ids = await flood(service, () => service.app.realtime.fanout.size === 0);
    expect(service.app.realtime.fanout.size).toBe(0);
    expect(await counter(service, 'sse_events_dropped_total', { reason: 'slow_client_disconnected' })).toBeGreaterThan(
      0,
    );

    slow.resume();
    await eventually(() => slow.ended, 'the slow client to see its stream end');
    const lastSeen = slow.ids.at(-1);
    expect(lastSeen).toBeDefined();
    const resumed = await open(service.url, { token: admin, lastEventId: lastSeen as string });
    const missing = ids.length - slow.ids.length;
    await resumed.waitForEvents(missing, 30_000);
    expect([...slow.ids, ...resumed.ids]).toEqual(ids);
  });
});
