// One client that stops reading must cost the others nothing they can notice: they still
// get every event, in order, while the stalled one's socket and queue fill, its overflow is
// dropped and counted, and it is told (resync) when it reads again. Latencies of the other
// clients, with and without the stalled one, are printed for the report, not asserted: on
// a shared machine a wall-clock bound would test the neighbours, not the service.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { decodeEntry } from '../../src/bus/index.ts';
import { eventually, testStream, token } from '#test-support/instance';
import { SseTestClient } from '#test-support/sse-client';
import { flood } from './support/flood.ts';
import { ResumingClient } from './support/resuming-client.ts';
import { spawnService } from '#test-support/entry-processes';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const READERS = 10;
const EVENTS = 1500;
// Large enough that one phase outgrows the kernel's socket buffers (several MB on loopback).
const blob = 'x'.repeat(8192);

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  return `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)} ms (${sorted.length} deliveries)`;
}

async function droppedQueueFull(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('sse_events_dropped_total{') && l.includes('reason="queue_full"'));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('a stalled client', () => {
  it('does not cost the other clients a single event; its own overflow is dropped, counted and announced with resync', async () => {
    const redisUrl = inject('redisUrl');
    const stream = testStream();
    const service = await spawnService({
      redisUrl,
      streamKey: stream.key,
      pod: 'stalled',
      env: { REALTIME_STREAM_MAXLEN: '50000', SSE_CLIENT_SOCKET_BUFFER_BYTES: '16384', SSE_OVERFLOW_POLICY: 'drop' },
    });
    cleanups.push(() => service.crash());
    const redis = new Redis(redisUrl, { protocol: 2 });
    cleanups.push(() => redis.quit());
    const producer = await token('producer');

    type Phase = 'alone' | 'beside a stalled client';
    let phase = 'alone' as Phase;
    const latencies: Record<Phase, number[]> = { alone: [], 'beside a stalled client': [] };
    const readers = await Promise.all(
      Array.from({ length: READERS }, async (_, i) => {
        const client = new ResumingClient({
          urls: [service.url],
          token: await token('admin', [], { sub: `reader-${i}` }),
          onEvent: (_id, data) =>
            latencies[phase].push(Date.now() - Date.parse((JSON.parse(data) as { timestamp: string }).timestamp)),
        });
        cleanups.push(() => client.stop());
        await client.start();
        return client;
      }),
    );
    const publishPhase = () =>
      flood({
        urls: [service.url],
        token: producer,
        total: EVENTS,
        concurrency: 4,
        event: (n) => ({ matchId: `m-${n % 5}`, action: 'match:updated', data: { n, blob } }),
      });

    const alone = await publishPhase();
    expect(alone.accepted).toHaveLength(EVENTS);
    for (const reader of readers)
      await reader
        .start()
        .then(() => eventually(() => reader.ids.length >= EVENTS, 'the readers to get the first phase', 30_000));

    const stalled = await SseTestClient.open(service.url, { token: await token('admin', [], { sub: 'stalled' }) });
    cleanups.push(() => stalled.close());
    stalled.pause();
    phase = 'beside a stalled client';
    const beside = await publishPhase();
    expect(beside.accepted).toHaveLength(EVENTS);

    const ids = ((await redis.xrange(stream.key, '-', '+')) as [string, string[]][]).map(
      ([id, fields]) => decodeEntry(id, fields)?.id,
    );
    expect(ids).toHaveLength(2 * EVENTS);
    for (const reader of readers) {
      await eventually(
        () => reader.ids.length >= 2 * EVENTS,
        `a reader to get every event (${reader.ids.length}/${2 * EVENTS})`,
        30_000,
      );
      expect(reader.ids).toEqual(ids);
      expect(reader.controlEvents).toEqual([]);
      expect(reader.connections).toBe(1);
    }

    // The stalled client overflowed: counted on the metrics port, and told when it reads again.
    const dropped = await droppedQueueFull(service.metricsUrl);
    expect(dropped).toBeGreaterThan(0);
    stalled.resume();
    await stalled.waitForEvent('resync', 30_000);
    expect(stalled.ended).toBe(false);
    // What it did receive is in order and without repeats; the gap is exactly what was dropped.
    expect(stalled.ids).toEqual(ids.filter((id) => stalled.ids.includes(id as string)));
    await eventually(() => stalled.ids.length + dropped >= EVENTS, 'the stalled client to drain its backlog', 30_000);
    expect(stalled.ids.length + dropped).toBe(EVENTS);

    console.info(
      `[reliability] stalled client: ${READERS} readers, ${EVENTS} events of 8 KiB per phase; publish→receive latency ` +
        `alone: ${summary(latencies.alone)}; beside a stalled client: ${summary(latencies['beside a stalled client'])}; ` +
        `stalled client dropped ${dropped} (counted), received ${stalled.ids.length}, told resync`,
    );
  }, 90_000);
});
