// The bus on its own: event validation, stream encoding, id arithmetic, and the reader's
// promises (its own group, pending entries first, acknowledgement after delivery).
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  InvalidEventError,
  compareStreamIds,
  entryFields,
  decodeEntry,
  isStreamId,
  normaliseEvent,
  type StreamEntry,
} from '../src/bus/index.ts';
import { StreamReader } from '../src/bus/stream-reader.ts';
import { createRedis } from '../src/redis/index.ts';
import { loadServiceConfig } from '../src/config/index.ts';
import { testConfig, testStream, eventually } from '#test-support/instance';
import { RealtimeBus } from '../src/bus/index.ts';
import { createServiceMetrics } from '../src/metrics/index.ts';
import { observeStream } from '../src/controller/index.ts';

describe('events', () => {
  it('fills a missing timestamp and keeps a given one, normalised to ISO 8601', () => {
    const now = new Date('2026-01-02T03:04:05.678Z');
    expect(normaliseEvent({ matchId: 'm', action: 'match:created' }, now)).toEqual({
      matchId: 'm',
      action: 'match:created',
      timestamp: now.toISOString(),
    });
    expect(
      normaliseEvent({ matchId: 'm', action: 'match:created', timestamp: '2026-01-01T00:00:00+01:00' }).timestamp,
    ).toBe('2025-12-31T23:00:00.000Z');
  });

  it.each([
    [{ matchId: 'm', action: 'shutdown' }, /action/],
    [{ matchId: '', action: 'match:created' }, /matchId/],
    [{ matchId: 'm', action: 'match:created', extra: 1 }, /./],
    [{ matchId: 'm', action: 'match:created', data: [1, 2] }, /data/],
    [
      { matchId: 'm', action: 'match:created', data: JSON.parse(`${'{"a":'.repeat(20)}1${'}'.repeat(20)}`) as unknown },
      /deeper/,
    ],
    ['not an object', /./],
  ])('rejects %j', (input, message) => {
    expect(() => normaliseEvent(input)).toThrow(InvalidEventError);
    expect(() => normaliseEvent(input)).toThrow(message);
  });

  it('encodes entries as event, payload (JSON) and timestamp fields, and decodes them back', () => {
    const event = normaliseEvent({ matchId: 'm', action: 'match:updated', data: { a: 1 } });
    const fields = entryFields(event);
    expect(fields.filter((_, i) => i % 2 === 0)).toEqual(['event', 'payload', 'timestamp']);
    expect(decodeEntry('1-0', fields)).toEqual({ id: '1-0', event });
    expect(decodeEntry('1-0', ['other', 'x'])).toBeUndefined();
    expect(decodeEntry('1-0', ['payload', '{broken'])).toBeUndefined();
  });

  it('orders stream ids numerically, not as text', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-10', '10-10')).toBe(0);
    expect(compareStreamIds('1700000000001-0', '1700000000000-99')).toBeGreaterThan(0);
  });

  it.each(['1-0', '1700000000000-12', '18446744073709551615-18446744073709551615'])('accepts %s as a stream id', (id) =>
    expect(isStreamId(id)).toBe(true),
  );
  it.each(['', '1', '-1-0', '1-', 'a-b', '1-0-0', '18446744073709551616-0', ' 1-0', `${'9'.repeat(21)}-0`])(
    'rejects %j as a stream id',
    (id) => expect(isStreamId(id)).toBe(false),
  );
});

describe('the stream reader', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'), { protocol: 2 });
  });
  afterAll(async () => {
    await redis.quit();
  });

  /** A reader of `key` as consumer `pod` in the group realtime-consumers:<pod>, on a connection of its own. */
  function readerOf(key: string, pod: string, options: { count?: number; blockMs?: number; lingerMs?: number } = {}) {
    const config = loadServiceConfig({ REDIS_URL: inject('redisUrl') });
    return new StreamReader(createRedis(config.redis, { name: `test-reader-${pod}`, offlineQueue: true }), {
      key,
      group: `realtime-consumers:${pod}`,
      consumer: pod,
      count: options.count ?? 10,
      blockMs: options.blockMs ?? 100,
      ...(options.lingerMs === undefined ? {} : { lingerMs: options.lingerMs }),
      log: pino({ level: 'silent' }),
    });
  }

  it('creates its own group, re-reads entries it was handed but never acknowledged, then acknowledges', async () => {
    const { key } = testStream();
    const group = 'realtime-consumers:pod-a';
    await redis.xgroup('CREATE', key, group, '$', 'MKSTREAM');
    const lost = await redis.xadd(key, '*', ...entryFields(normaliseEvent({ matchId: 'm', action: 'match:created' })));
    // A read whose reply never arrived: the entry is pending for pod-a.
    await redis.call('XREADGROUP', 'GROUP', group, 'pod-a', 'COUNT', 10, 'STREAMS', key, '>');

    const delivered: StreamEntry[] = [];
    const reader = readerOf(key, 'pod-a');
    await reader.start((entries) => delivered.push(...entries));
    await eventually(() => delivered.length === 1, 'the pending entry to be delivered');
    expect(delivered[0]?.id).toBe(lost);
    await eventually(
      async () => ((await redis.xpending(key, group)) as [number])[0] === 0,
      'the entry to be acknowledged',
    );
    expect(reader.lastReadAt).toBeDefined();
    await reader.stop();
  });

  it('under steady traffic holds at most its last batch pending, briefly, and nothing once traffic stops', async () => {
    const { key } = testStream();
    const reader = readerOf(key, 'pod-steady', { count: 50, blockMs: 1000, lingerMs: 50 });
    let delivered = 0;
    await reader.start((entries) => (delivered += entries.length));
    const event = entryFields(normaliseEvent({ matchId: 'm', action: 'match:updated' }));
    let worstPending = 0;
    let worstAgeMs = 0;
    const started = Date.now();
    while (Date.now() - started < 1500) {
      for (let i = 0; i < 4; i++) await redis.xadd(key, '*', ...event);
      const { groups } = await observeStream(redis, { key, groupPrefix: 'realtime-consumers', maxLen: 5000 });
      worstPending = Math.max(worstPending, groups[0]?.pending ?? 0);
      worstAgeMs = Math.max(worstAgeMs, groups[0]?.oldestPendingAgeMs ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // What the controller sees of a healthy reader: one batch at most (far below the 500
    // threshold), acknowledged a linger later (far below 30 s; generous for a busy machine).
    expect(worstPending).toBeGreaterThan(0);
    expect(worstPending).toBeLessThanOrEqual(50);
    expect(worstAgeMs).toBeLessThan(1000);
    await eventually(async () => {
      const { groups } = await observeStream(redis, { key, groupPrefix: 'realtime-consumers', maxLen: 5000 });
      return groups[0]?.pending === 0 && groups[0]?.lag === 0;
    }, 'the last batch to be acknowledged after traffic stops');
    expect(delivered).toBe(await redis.xlen(key));
    await reader.stop();
  });

  it('acknowledges its last batch when stopped between reads, so a restart does not read it again', async () => {
    const { key } = testStream();
    const group = 'realtime-consumers:pod-stop';
    // A linger long enough that stop() surely comes while it waits between reads.
    const reader = readerOf(key, 'pod-stop', { count: 50, blockMs: 1000, lingerMs: 60_000 });
    let delivered = 0;
    await reader.start((entries) => (delivered += entries.length));
    await redis.xadd(key, '*', ...entryFields(normaliseEvent({ matchId: 'm', action: 'match:created' })));
    await eventually(() => delivered === 1, 'the entry to be delivered');
    expect(((await redis.xpending(key, group)) as [number])[0]).toBe(1);
    await reader.stop();
    expect(((await redis.xpending(key, group)) as [number])[0]).toBe(0);
  });

  it('gives each instance a group of its own named <prefix>:<POD_NAME>, so both read every entry', async () => {
    const stream = testStream();
    const seen: Record<string, string[]> = { a: [], b: [] };
    const buses = ['a', 'b'].map((pod) => {
      const config = testConfig(stream, { POD_NAME: pod });
      return { pod, bus: new RealtimeBus({ config, log: pino({ level: 'silent' }), metrics: createServiceMetrics() }) };
    });
    for (const { pod, bus } of buses) await bus.start((entries) => seen[pod]?.push(...entries.map((e) => e.id)));
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push((await buses[0]!.bus.emitRealtimeEvent({ matchId: 'm', action: 'match:updated' })).id);
    await eventually(() => seen.a?.length === 10 && seen.b?.length === 10, 'both instances to read all entries');
    expect(seen.a).toEqual(ids);
    expect(seen.b).toEqual(ids);
    const groups = (await redis.call('XINFO', 'GROUPS', stream.key)) as string[][];
    expect(groups.map((group) => group[1]).sort()).toEqual(['realtime-consumers:a', 'realtime-consumers:b']);
    for (const { bus } of buses) await bus.stop();
  });
});
