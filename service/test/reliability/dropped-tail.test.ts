// A slow client whose dropped events were the last ones published must still be told: the
// resync goes out once its socket has taken what was queued before the gap, not only in front
// of some later event that may not come for a long time.
import { describe, expect, it } from 'vitest';
import { eventually, testStream, token, type TestInstance } from '#test-support/instance';
import { perTest } from '#test-support/per-test';

const { instance, open } = perTest();

async function dropped(service: TestInstance): Promise<number> {
  const metric = await service.app.realtime.metrics.registry.getSingleMetric('sse_events_dropped_total')?.get();
  return metric?.values.find((value) => value.labels.reason === 'queue_full')?.value ?? 0;
}

describe('events dropped at the end of a burst', () => {
  it('are announced with resync when the client reads again, with no further event needed', async () => {
    const service = await instance(testStream(), {
      REALTIME_STREAM_MAXLEN: '50000',
      SSE_CLIENT_SOCKET_BUFFER_BYTES: '16384',
      SSE_CLIENT_QUEUE_LIMIT: '20',
    });
    const slow = await open(service.url, { token: await token('admin') });
    slow.pause();
    const data = { blob: 'x'.repeat(8 * 1024) };
    const ids: string[] = [];
    while ((await dropped(service)) === 0 && ids.length < 20_000) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, () =>
          service.app.realtime.bus.emitRealtimeEvent({ matchId: 'm', action: 'match:updated', data }),
        ),
      );
      ids.push(...batch.map((entry) => entry.id));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const published = ids.length;
    expect(await dropped(service)).toBeGreaterThan(0);
    // Nothing is published from here on. Wait until the instance's group has read and
    // acknowledged everything (acknowledged after fan-out): the last event has been handed out.
    await eventually(async () => {
      const [group] = (await service.app.realtime.bus.redis.call(
        'XINFO',
        'GROUPS',
        service.config.stream.key,
      )) as unknown[][];
      const field = (name: string) => group?.[group.indexOf(name) + 1];
      return field('pending') === 0 && field('lag') === 0;
    }, 'the reader to hand out every event');
    slow.resume();
    // Every event is accounted for: received or counted as dropped.
    await eventually(
      async () => slow.streamEvents.length + (await dropped(service)) === published,
      'every event received or counted',
      30_000,
    );
    // The last events were dropped (the queue was full to the end), so the client must hear
    // of it after the last event it got, with no later event to carry the news.
    const lastReceived = slow.ids.at(-1);
    expect(lastReceived).not.toBe(ids.at(-1));
    await eventually(() => slow.events.at(-1)?.event === 'resync', 'a resync after the last delivered event', 10_000);
    expect(JSON.parse(slow.events.at(-1)?.data ?? '{}')).toMatchObject({ action: 'resync', reason: 'events_dropped' });
    // And every earlier gap was announced before the event that followed it.
    let expected = 0;
    let announced = false;
    for (const event of slow.events) {
      if (event.event === 'resync') announced = true;
      if (event.id === undefined) continue;
      const at = ids.indexOf(event.id);
      if (at > expected)
        expect(announced, `a resync before ${event.id}, after ${at - expected} dropped events`).toBe(true);
      expected = at + 1;
      announced = false;
    }
    expect(slow.ended).toBe(false);
  });
});
