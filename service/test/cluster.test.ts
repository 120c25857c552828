// WEB_CONCURRENCY > 1: one worker per core under node:cluster, each a whole instance with its
// own consumer group, so every worker's clients get every event; the primary serves the
// summed metrics and drains every worker on SIGTERM.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { workerConfig } from '../src/cluster.ts';
import { SseTestClient } from '#test-support/sse-client';
import { startServiceProcess } from '#test-support/entry-processes';
import { TEST_SECRET, eventually, publish, testConfig, testStream, token } from '#test-support/instance';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('cluster mode', () => {
  it('names each worker instance, group and consumer after the pod with a -w<N> suffix', () => {
    const config = testConfig(testStream(), { POD_NAME: 'pod-a', REALTIME_STREAM_GROUP: 'rc' });
    const second = workerConfig(config, 2);
    expect(second.instance).toBe('pod-a-w2');
    expect(second.stream).toMatchObject({ group: 'rc:pod-a-w2', consumer: 'pod-a-w2', key: config.stream.key });
    expect(config.instance).toBe('pod-a');
  });

  it('runs WEB_CONCURRENCY workers with a consumer group each; every client gets every event; metrics are summed; SIGTERM drains all', async () => {
    const stream = testStream();
    const service = await startServiceProcess({
      REDIS_URL: inject('redisUrl'),
      AUTH_JWT_SECRET: TEST_SECRET,
      POD_NAME: 'cluster-test',
      REALTIME_STREAM_KEY: stream.key,
      SSE_DRAIN_WINDOW_MS: '200',
      WEB_CONCURRENCY: '2',
    });
    cleanups.push(() => service.crash());
    const { url } = service;
    const redis = new Redis(inject('redisUrl'), { protocol: 2 });
    cleanups.push(() => redis.quit());
    const groupNames = async () => {
      const groups = (await redis.call('XINFO', 'GROUPS', stream.key).catch(() => [])) as string[][];
      return groups.map((group) => group[1]).sort();
    };
    await eventually(
      async () => (await groupNames()).length === 2,
      'both workers to create their consumer groups',
      20_000,
    );
    expect(await groupNames()).toEqual(['realtime-consumers:cluster-test-w1', 'realtime-consumers:cluster-test-w2']);

    const admin = await token('admin');
    const clients = await Promise.all([1, 2, 3, 4].map(() => SseTestClient.open(url, { token: admin })));
    cleanups.push(() => clients.forEach((client) => client.close()));
    const response = await publish(url, await token('producer'), { matchId: 'm-c', action: 'match:updated' });
    const { id } = (await response.json()) as { id: string };
    for (const client of clients) await client.waitForEvents(1);
    for (const client of clients) expect(client.ids).toEqual([id]);

    const metrics = await (await fetch(service.metricsUrl)).text();
    expect(/^sse_connections 4$/m.test(metrics)).toBe(true);
    expect(/^sse_event_delivery_latency_seconds_count 4$/m.test(metrics)).toBe(true);

    service.signal('SIGTERM');
    for (const client of clients) await client.waitForEvent('shutdown');
    expect(await service.exitCode).toBe(0);
  });
});
