// Lifecycle under real processes: SIGTERM drains clients with a shutdown event, and a Redis
// restart mid-stream is survived, with readiness and producers reflecting the outage, and an
// instance started before Redis waits for it instead of exiting.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startThrowawayRedis, type ThrowawayRedis } from '#test-support/throwaway-redis';
import { freePort } from '#test-support/free-port';
import { serviceEntry as mainEntry, startServiceProcess } from '#test-support/entry-processes';
import { SseTestClient } from '#test-support/sse-client';
import {
  TEST_SECRET,
  eventually,
  publish,
  startInstance,
  testConfig,
  testStream,
  token,
  type TestInstance,
} from '#test-support/instance';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('graceful shutdown', () => {
  it('on SIGTERM readiness fails, every client gets shutdown, streams end over the drain window and the process exits 0', async () => {
    const service = await startServiceProcess({
      REDIS_URL: inject('redisUrl'),
      AUTH_JWT_SECRET: TEST_SECRET,
      POD_NAME: 'sigterm-test',
      REALTIME_STREAM_KEY: testStream().key,
      SSE_DRAIN_WINDOW_MS: '1500',
    });
    cleanups.push(() => service.crash());
    const { url } = service;

    const admin = await token('admin');
    const clients = await Promise.all([1, 2, 3].map(() => SseTestClient.open(url, { token: admin })));
    cleanups.push(() => clients.forEach((client) => client.close()));
    await publish(url, await token('producer'), { matchId: 'm', action: 'match:updated' });
    for (const client of clients) await client.waitForEvents(1);

    service.signal('SIGTERM');
    for (const client of clients) {
      const shutdown = await client.waitForEvent('shutdown');
      expect(JSON.parse(shutdown.data)).toMatchObject({ action: 'shutdown', retryMs: 5000 });
    }
    const readyz = await fetch(`${url}/readyz`).catch(() => undefined);
    expect(readyz?.status).toBe(503);
    await eventually(() => clients.every((client) => client.ended), 'every stream to end');
    // The shutdown event is the last thing each client saw.
    for (const client of clients) expect(client.events.at(-1)?.event).toBe('shutdown');
    expect(await service.exitCode).toBe(0);
  });

  it('the production entry refuses to start without REDIS_URL or an auth setting', async () => {
    for (const env of [{ AUTH_JWT_SECRET: TEST_SECRET }, { REDIS_URL: inject('redisUrl') }]) {
      const child = spawn(process.execPath, [mainEntry], {
        env: { PATH: process.env.PATH, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(1);
      expect(stderr).toMatch(/REDIS_URL|auth/);
    }
  });
});

describe('a Redis restart mid-stream', () => {
  it('turns readiness off and producers get 503 while Redis is down; afterwards the reader recovers and clients get new events', async () => {
    const redis: ThrowawayRedis = await startThrowawayRedis();
    cleanups.push(() => redis.stop());
    const service: TestInstance = await startInstance(
      testConfig(testStream(), { REDIS_URL: redis.url, REALTIME_STREAM_READ_BLOCK_MS: '200' }),
    );
    cleanups.push(() => service.close());
    const producer = await token('producer');
    const client = await SseTestClient.open(service.url, { token: await token('admin') });
    cleanups.push(() => client.close());

    expect((await publish(service.url, producer, { matchId: 'm', action: 'match:created' })).status).toBe(202);
    await client.waitForEvents(1);

    await redis.kill();
    await eventually(async () => (await fetch(`${service.url}/readyz`)).status === 503, 'readiness to fail');
    const down = await publish(service.url, producer, { matchId: 'm', action: 'match:updated' });
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ error: 'Service Unavailable' });

    await redis.restart();
    await eventually(async () => (await fetch(`${service.url}/readyz`)).status === 200, 'readiness to return', 20_000);
    const again = await publish(service.url, producer, { matchId: 'm', action: 'match:updated' });
    expect(again.status).toBe(202);
    const { id } = (await again.json()) as { id: string };
    await eventually(() => client.ids.includes(id), 'the event published after the restart to arrive', 20_000);
    expect(client.ended).toBe(false);
  }, 60_000);
});

describe('Redis that comes up after the instance', () => {
  // In a cluster the instances and Redis start together, in no set order: on a real cluster
  // the service used to exit at start ("Connection is closed.") and crash-loop with back-off
  // until Redis was Ready.
  it('the instance starts and listens, reports not ready, then reads and streams once Redis answers', async () => {
    const port = await freePort();
    const service: TestInstance = await startInstance(
      testConfig(testStream(), { REDIS_URL: `redis://127.0.0.1:${port}`, REALTIME_STREAM_READ_BLOCK_MS: '200' }),
    );
    cleanups.push(() => service.close());
    const notYet = await fetch(`${service.url}/readyz`);
    expect(notYet.status).toBe(503);
    expect(await notYet.json()).toMatchObject({ reasons: expect.arrayContaining(['redis unreachable']) as unknown });

    const redis: ThrowawayRedis = await startThrowawayRedis({ port });
    // stopped last, after the instance has closed against it
    cleanups.unshift(() => redis.stop());
    await eventually(
      async () => (await fetch(`${service.url}/readyz`)).status === 200,
      'readiness once Redis answers',
      20_000,
    );
    const client = await SseTestClient.open(service.url, { token: await token('admin') });
    cleanups.push(() => client.close());
    const published = await publish(service.url, await token('producer'), { matchId: 'm', action: 'match:created' });
    expect(published.status).toBe(202);
    await client.waitForEvents(1);
  }, 60_000);
});
