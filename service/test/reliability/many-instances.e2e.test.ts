// Scale-out on one Redis: 32 service processes (the production entry, each its own consumer
// group) with a resuming SSE client on each, a producer publishing at a steady rate, and in
// the middle a few instances restarted under the same name, as a container restart does:
// three gracefully (SIGTERM, drain), one by kill -9. The clients of the restarted instances
// move to their neighbour with Last-Event-ID, a fresh client joins each restarted instance
// from the first event, and every client must end with the stream's events: all, in order,
// each once.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { testStream, token } from '#test-support/instance';
import { spawnService, type ServiceProcess } from '#test-support/entry-processes';
import { flood } from './support/flood.ts';
import { ResumingClient } from './support/resuming-client.ts';
import { expectEveryEventOnce } from './support/every-event-once.ts';

const INSTANCES = 32;
const EVENTS = 600;
const RESTARTED = [0, 1, 2];
const CRASHED = 3;

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe(`${INSTANCES} instances on one Redis`, () => {
  it('every client gets every event once, in order, through restarts of a few instances in the middle', async () => {
    const redisUrl = inject('redisUrl');
    const stream = testStream();
    const redis = new Redis(redisUrl, { protocol: 2 });
    cleanups.push(() => redis.quit());
    const pods = Array.from({ length: INSTANCES }, (_, i) => `many-${i}`);
    const start = async (pod: string) => {
      const instance = await spawnService({ redisUrl, streamKey: stream.key, pod });
      cleanups.push(() => instance.stop());
      return instance;
    };
    // A few at a time: thirty-two Node processes compiling at once starve a small machine.
    const started = Date.now();
    const instances: ServiceProcess[] = [];
    for (let i = 0; i < INSTANCES; i += 8) instances.push(...(await Promise.all(pods.slice(i, i + 8).map(start))));
    const groups = (await redis.call('XINFO', 'GROUPS', stream.key)) as unknown[];
    expect(groups).toHaveLength(INSTANCES);
    const startupMs = Date.now() - started;

    const producer = await token('producer');
    const seed = await fetch(`${instances[INSTANCES - 1]!.url}/api/realtime/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${producer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ matchId: 'many', action: 'match:created' }),
    });
    const seedId = ((await seed.json()) as { id: string }).id;
    const client = async (urls: string[], n: number) => {
      const resuming = new ResumingClient({
        urls,
        token: await token('admin', [], { sub: `many-client-${n}` }),
        lastEventId: seedId,
        reconnectDelayMs: 50,
      });
      cleanups.push(() => resuming.stop());
      await resuming.start();
      return resuming;
    };
    // Client i on instance i; when that one goes away it resumes on one half the fleet away,
    // which never restarts.
    const clients = await Promise.all(
      instances.map((instance, i) => client([instance.url, instances[(i + INSTANCES / 2) % INSTANCES]!.url], i)),
    );

    let restarted = false;
    // The producer posts to the instances that stay up; about 50 events a second.
    const outcome = await flood({
      urls: instances.slice(8).map((instance) => instance.url),
      token: producer,
      total: EVENTS,
      concurrency: 2,
      paceMs: 40,
      event: (n) => ({ matchId: 'many', action: 'match:updated', data: { n } }),
      onProgress: async ({ accepted }) => {
        if (restarted || accepted.length < EVENTS / 3) return;
        restarted = true;
        await Promise.all([...RESTARTED.map((i) => instances[i]!.stop()), instances[CRASHED]!.crash()]);
        const again = await Promise.all([...RESTARTED, CRASHED].map((i) => start(pods[i]!)));
        clients.push(...(await Promise.all(again.map((instance, j) => client([instance.url], INSTANCES + j)))));
      },
    });
    expect(restarted).toBe(true);
    expect([...outcome.statuses.entries()]).toEqual([]);
    expect(outcome.socketErrors).toBe(0);

    const raw = (await redis.xrange(stream.key, `(${seedId}`, '+')) as [string, string[]][];
    const ids = raw.map(([id]) => id);
    expect(new Set(ids)).toEqual(new Set(outcome.accepted));
    expect(ids).toHaveLength(EVENTS);
    await expectEveryEventOnce(clients, ids);
    // The clients of the restarted instances really did move and resume.
    for (const i of [...RESTARTED, CRASHED]) expect(clients[i]!.connections).toBeGreaterThanOrEqual(2);
    // One group per instance name: the restarted instances kept theirs.
    expect((await redis.call('XINFO', 'GROUPS', stream.key)) as unknown[]).toHaveLength(INSTANCES);
    console.info(
      `[scale-out] ${INSTANCES} instances ready in ${startupMs} ms; ${EVENTS} events, ${RESTARTED.length} restarted ` +
        `gracefully and 1 killed mid-stream; ${clients.length} clients, ` +
        `${clients.reduce((n, c) => n + c.connections - 1, 0)} resumes, ${clients.length * EVENTS} deliveries, 0 lost, 0 duplicated`,
    );
  }, 240_000);
});
