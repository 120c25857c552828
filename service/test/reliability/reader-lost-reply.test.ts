// The reader's promise under a lost reply: when the connection drops while XREADGROUP is in
// flight, Redis may already have handed entries to this consumer (they sit in its pending
// list) although the reply never arrived. ioredis re-sends the read on the new connection,
// which asks only for newer entries ('>'). The reader must still deliver the entries of the
// lost reply, before the newer ones, or every client of the instance misses them for good.
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { entryFields, normaliseEvent, type StreamEntry } from '../../src/bus/index.ts';
import { createRedis } from '../../src/redis/index.ts';
import { StreamReader } from '../../src/bus/stream-reader.ts';
import { eventually, testStream } from '#test-support/instance';
import { startCuttingProxy } from './support/cutting-proxy.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('a stream read whose reply is lost with the connection', () => {
  it('is delivered after the reconnect, in order, before newer entries; nothing stays pending', async () => {
    const redisUrl = inject('redisUrl');
    const proxy = await startCuttingProxy(Number(new URL(redisUrl).port));
    cleanups.push(() => proxy.close());
    const redis = new Redis(redisUrl, { protocol: 2 });
    cleanups.push(() => redis.quit());
    const { key } = testStream();
    const group = 'realtime-consumers:lost-reply';
    const append = async (n: number) =>
      (await redis.xadd(
        key,
        '*',
        ...entryFields(normaliseEvent({ matchId: 'm', action: 'match:updated', data: { marker: `entry-${n}` } })),
      )) as string;

    const delivered: StreamEntry[] = [];
    const reader = new StreamReader(
      createRedis({ mode: 'standalone', url: proxy.url }, { name: 'lost-reply-reader', offlineQueue: true }),
      {
        key,
        group,
        consumer: 'lost-reply',
        count: 10,
        blockMs: 5000,
        log: pino({ level: 'silent' }),
      },
    );
    cleanups.push(() => reader.stop());
    await reader.start((entries) => delivered.push(...entries));

    const first = await append(1);
    await eventually(() => delivered.length === 1, 'the first entry');
    // The reader is blocked in XREADGROUP again; the reply carrying entry 2 is lost.
    await new Promise((resolve) => setTimeout(resolve, 100));
    proxy.cutNextReplyContaining('entry-2');
    const second = await append(2);
    await eventually(() => proxy.cuts === 1, 'the reply to be cut');
    // Redis counts entry 2 as handed to this consumer: it is pending.
    expect(((await redis.xpending(key, group)) as [number])[0]).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const third = await append(3);

    await eventually(() => delivered.some((entry) => entry.id === third), 'the entry published after the reconnect');
    await eventually(() => delivered.length >= 3, 'the lost entry to be delivered', 3000).catch(() => undefined);
    expect(delivered.map((entry) => entry.id)).toEqual([first, second, third]);
    await eventually(
      async () => ((await redis.xpending(key, group)) as [number])[0] === 0,
      'every entry to be acknowledged',
    );
  });
});
