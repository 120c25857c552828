// kill -9 of instances in the middle of a producer flood. Their clients lose their sockets
// without a word, reconnect to another instance with Last-Event-ID, and must end with
// exactly the stream's events for their rooms: all of them, in order, none twice.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { decodeEntry } from '../../src/bus/index.ts';
import { eventually, testStream, token } from '#test-support/instance';
import { flood } from './support/flood.ts';
import { ResumingClient } from './support/resuming-client.ts';
import { spawnService, type ServiceProcess } from '#test-support/entry-processes';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ROOMS = Array.from({ length: 8 }, (_, i) => `room-${i}`);
const CLIENTS = 150;
const EVENTS = 3000;
const MAXLEN = 20_000;

describe('an instance killed with SIGKILL mid-flood', () => {
  it('every client of the dead instances resumes elsewhere and ends with the full ordered sequence of its rooms, no duplicates', async () => {
    const redisUrl = inject('redisUrl');
    const stream = testStream();
    const env = { REALTIME_STREAM_MAXLEN: String(MAXLEN) };
    const [a, b, c] = await Promise.all(
      ['crash-a', 'crash-b', 'crash-c'].map((pod) => spawnService({ redisUrl, streamKey: stream.key, pod, env })),
    );
    const instances = [a, b, c] as ServiceProcess[];
    for (const instance of instances) cleanups.push(() => instance.crash());
    const redis = new Redis(redisUrl, { protocol: 2 });
    cleanups.push(() => redis.quit());
    const producer = await token('producer');

    // Clients resume from a first event, so even one that had seen nothing when its
    // instance died has a resume point, as a page that loaded its state would.
    const seed = await fetch(`${c!.url}/api/realtime/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${producer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ matchId: 'room-0', action: 'match:created' }),
    });
    const seedId = ((await seed.json()) as { id: string }).id;

    // Half the clients start on a, half on b; each tries the others in turn when its instance is gone.
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const admin = i % 10 === 0;
        const rooms = admin ? undefined : [ROOMS[i % ROOMS.length] as string, ROOMS[(i + 3) % ROOMS.length] as string];
        const urls = i % 2 === 0 ? [a!.url, b!.url, c!.url] : [b!.url, c!.url, a!.url];
        const client = new ResumingClient({
          urls,
          token: await token(admin ? 'admin' : 'user', rooms ?? [], { sub: `client-${i}` }),
          ...(rooms === undefined ? {} : { rooms }),
          lastEventId: seedId,
          reconnectDelayMs: 50,
        });
        cleanups.push(() => client.stop());
        await client.start();
        return { client, rooms };
      }),
    );

    let faults = 0;
    const outcome = await flood({
      urls: [a!.url, b!.url, c!.url],
      token: producer,
      total: EVENTS,
      concurrency: 8,
      event: (n) => ({ matchId: ROOMS[n % ROOMS.length] as string, action: 'match:updated', data: { n } }),
      onProgress: async ({ accepted }) => {
        if (faults === 0 && accepted.length >= EVENTS / 3) {
          faults++;
          await a!.crash();
        } else if (faults === 1 && accepted.length >= (2 * EVENTS) / 3) {
          faults++;
          await b!.crash();
        }
      },
    });
    expect(faults).toBe(2);
    // Only the dead instances' in-flight posts may lack an answer; every answer is a 202.
    expect([...outcome.statuses.entries()]).toEqual([]);

    // The truth: the stream itself. Nothing was trimmed, so the whole sequence is there.
    const raw = (await redis.xrange(stream.key, `(${seedId}`, '+')) as [string, string[]][];
    const entries = raw.map(([id, fields]) => decodeEntry(id, fields));
    expect(entries.every((entry) => entry !== undefined)).toBe(true);
    const streamIds = new Set(raw.map(([id]) => id));
    const lost = outcome.accepted.filter((id) => !streamIds.has(id));
    expect(lost).toEqual([]);
    expect(raw.length).toBeLessThan(MAXLEN);

    const expectedFor = (rooms: string[] | undefined) =>
      entries.filter((entry) => rooms === undefined || rooms.includes(entry!.event.matchId)).map((entry) => entry!.id);
    for (const { client, rooms } of clients) {
      const expected = expectedFor(rooms);
      await eventually(
        () => client.ids.length >= expected.length,
        `client to catch up (${client.ids.length}/${expected.length})`,
        30_000,
      );
    }
    let delivered = 0;
    let duplicates = 0;
    let resumed = 0;
    for (const { client, rooms } of clients) {
      expect(client.ids).toEqual(expectedFor(rooms));
      expect(client.outOfOrder).toBe(0);
      expect(client.controlEvents).not.toContain('resync');
      duplicates += client.ids.length - new Set(client.ids).size;
      delivered += client.ids.length;
      resumed += client.connections - 1;
      // Every client ends on the one surviving instance.
      expect(client.currentUrl).toBe(c!.url);
    }
    console.info(
      `[reliability] kill -9: ${faults} instances crashed mid-flood; ${outcome.accepted.length} accepted, ` +
        `${outcome.socketErrors} posts cut by the crash, ${raw.length} in the stream; ${CLIENTS} clients, ${resumed} resumes, ` +
        `${delivered} events delivered, 0 lost, ${duplicates} duplicates`,
    );
  }, 120_000);
});
