// 2,000 clients resuming at the same moment (what follows an instance's death or a
// network blip): every one is admitted, replays exactly what it missed, then continues live,
// and the instance keeps answering its health checks throughout.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { decodeEntry, type StreamEntry } from '../../src/bus/index.ts';
import { eventually, testStream, token } from '#test-support/instance';
import { flood } from './support/flood.ts';
import { ResumingClient } from './support/resuming-client.ts';
import { spawnService } from '#test-support/entry-processes';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const CLIENTS = 2000;
const HISTORY = 200;
const LIVE = 50;
const ROOMS = ['room-a', 'room-b', 'room-c', 'room-d'];

function openFileLimit(): number {
  // Node raises its soft limit to the hard one at start; this is what the worker really has.
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3] ?? 0);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

describe('2,000 clients resuming at once', () => {
  it('all are admitted and receive exactly the events after their resume point, and /healthz keeps answering', async () => {
    expect(
      openFileLimit(),
      `this test opens ${CLIENTS} sockets on each side: raise the hard limit (ulimit -Hn) above ${CLIENTS * 2 + 500}`,
    ).toBeGreaterThan(CLIENTS * 2 + 500);
    const redisUrl = inject('redisUrl');
    const stream = testStream();
    const service = await spawnService({ redisUrl, streamKey: stream.key, pod: 'storm' });
    cleanups.push(() => service.crash());
    const producer = await token('producer');
    const history = await flood({
      urls: [service.url],
      token: producer,
      total: HISTORY,
      concurrency: 4,
      event: (n) => ({ matchId: ROOMS[n % ROOMS.length] as string, action: 'match:updated', data: { n } }),
    });
    expect(history.accepted).toHaveLength(HISTORY);
    const redis = new Redis(redisUrl, { protocol: 2 });
    cleanups.push(() => redis.quit());
    const ordered = ((await redis.xrange(stream.key, '-', '+')) as [string, string[]][]).map(([id]) => id);

    const tokens = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        token(i % 4 === 0 ? 'admin' : 'user', [ROOMS[i % ROOMS.length] as string], { sub: `storm-${i}` }),
      ),
    );
    const clients = tokens.map((bearer, i) => {
      const rooms = i % 4 === 0 ? undefined : [ROOMS[i % ROOMS.length] as string];
      const client = new ResumingClient({
        urls: [service.url],
        token: bearer,
        ...(rooms === undefined ? {} : { rooms }),
        lastEventId: ordered[i % HISTORY],
        reconnectDelayMs: 200,
      });
      cleanups.push(() => client.stop());
      return { client, rooms, from: i % HISTORY };
    });

    // Health probes run through the storm; each must answer 200.
    const health: { status: number; ms: number }[] = [];
    let storming = true;
    const probing = (async () => {
      while (storming) {
        const started = performance.now();
        const status = (await fetch(`${service.url}/healthz`).catch(() => undefined))?.status ?? 0;
        health.push({ status, ms: performance.now() - started });
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();

    const started = performance.now();
    const connecting = Promise.all(clients.map(({ client }) => client.start()));
    // Live events land while the replays are running: the hand-over must not lose or repeat them.
    const live = await flood({
      urls: [service.url],
      token: producer,
      total: LIVE,
      concurrency: 2,
      paceMs: 10,
      event: (n) => ({ matchId: ROOMS[n % ROOMS.length] as string, action: 'match:deleted', data: { n } }),
    });
    await connecting;
    const connectedMs = performance.now() - started;
    expect(live.accepted).toHaveLength(LIVE);
    // The stream's order, not the order the 202s came back in.
    const entries = ((await redis.xrange(stream.key, '-', '+')) as [string, string[]][]).map(
      ([id, fields]) => decodeEntry(id, fields) as StreamEntry,
    );
    expect(entries).toHaveLength(HISTORY + LIVE);
    const all = entries.map((entry) => entry.id);
    const roomOf = new Map(entries.map((entry) => [entry.id, entry.event.matchId]));

    const expectedFor = (rooms: string[] | undefined, from: number) =>
      all.slice(from + 1).filter((id) => rooms === undefined || rooms.includes(roomOf.get(id) as string));
    for (const { client, rooms, from } of clients) {
      const expected = expectedFor(rooms, from);
      await eventually(
        () => client.ids.length >= expected.length,
        `a client to catch up (${client.ids.length}/${expected.length})`,
        60_000,
      );
    }
    const caughtUpMs = performance.now() - started;
    storming = false;
    await probing;

    let delivered = 0;
    for (const { client, rooms, from } of clients) {
      expect(client.ids).toEqual(expectedFor(rooms, from));
      expect(client.refusals).toEqual([]);
      expect(client.outOfOrder).toBe(0);
      delivered += client.ids.length;
    }
    expect(health.length).toBeGreaterThan(0);
    expect(health.filter((probe) => probe.status !== 200)).toEqual([]);
    const socketErrors = clients.reduce((n, { client }) => n + client.socketErrors, 0);
    console.info(
      `[reliability] resume storm: ${CLIENTS} clients resumed at once (${socketErrors} connect retries), all admitted in ${Math.round(connectedMs)} ms, ` +
        `all caught up in ${Math.round(caughtUpMs)} ms; ${delivered} events delivered, 0 lost, 0 duplicates; ` +
        `/healthz ${health.length} probes all 200, p50 ${percentile(
          health.map((p) => p.ms),
          50,
        ).toFixed(1)} ms, max ${Math.max(...health.map((p) => p.ms)).toFixed(1)} ms`,
    );
  }, 150_000);
});
