// The service and the controller on a real Redis Cluster (three primaries, three replicas on
// loopback), reached through REDIS_CLUSTER_NODES: publishing and match changes (one script,
// two keys with one hash tag), fan-out across instances, resume, the metrics:sse hash, the
// controller's view of every group, the status command reading it, and a primary failover in
// the middle of a flood that resuming clients do not notice: every event once, in order.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeEntry } from '../../src/bus/index.ts';
import { loadServiceConfig } from '../../src/config/index.ts';
import { observeStream } from '../../src/controller/index.ts';
import { createRedis, type RedisClient } from '../../src/redis/index.ts';
import type { StatusReport } from '../../src/status/index.ts';
import { SSE_METRICS_HASH, groupName } from '#contract';
import { eventually, publish, startInstance, testConfig, token, type TestInstance } from '#test-support/instance';
import { SseTestClient } from '#test-support/sse-client';
import { runStatusCommand } from '#test-support/entry-processes';
import { startThrowawayRedisCluster, type ThrowawayRedisCluster } from '#test-support/throwaway-redis-cluster';
import { flood } from './support/flood.ts';
import { ResumingClient } from './support/resuming-client.ts';
import { expectEveryEventOnce } from './support/every-event-once.ts';

let cluster: ThrowawayRedisCluster;
let redis: RedisClient;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  cluster = await startThrowawayRedisCluster();
  const { redis: config } = loadServiceConfig({ REDIS_CLUSTER_NODES: cluster.seeds, ...tagged('admin') });
  redis = createRedis(config, {
    name: 'cluster-test',
    offlineQueue: true,
  });
  await redis.connect();
}, 60_000);
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A stream and match hash of their own, on one slot: the hash tag is the test's id. */
function clusterStream() {
  const tag = randomUUID().slice(0, 8);
  return { key: `{cluster-${tag}}:events`, matchesKey: `{cluster-${tag}}:matches` };
}

function tagged(tag: string) {
  return { REALTIME_STREAM_KEY: `{${tag}}:events`, MATCHES_KEY: `{${tag}}:matches` };
}

async function instanceOn(stream: ReturnType<typeof clusterStream>, pod: string): Promise<TestInstance> {
  const instance = await startInstance(testConfig(stream, { REDIS_CLUSTER_NODES: cluster.seeds, POD_NAME: pod }));
  cleanups.push(() => instance.close());
  return instance;
}

describe('the service on Redis Cluster', () => {
  it('publishes, changes matches in one step, fans out to every instance and resumes', async () => {
    const stream = clusterStream();
    const [a, b] = [await instanceOn(stream, 'cluster-a'), await instanceOn(stream, 'cluster-b')];
    const admin = await token('admin');
    const open = async (url: string, lastEventId?: string) => {
      const client = await SseTestClient.open(url, { token: admin, ...(lastEventId ? { lastEventId } : {}) });
      cleanups.push(() => client.close());
      return client;
    };
    const onA = await open(a.url);
    const onB = await open(b.url);

    const created = await fetch(`${a.url}/api/matches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'cluster-match', title: 'On a cluster' }),
    });
    expect(created.status).toBe(201);
    expect((await publish(b.url, admin, { matchId: 'cluster-match', action: 'match:updated' })).status).toBe(202);
    await onA.waitForEvents(2);
    await onB.waitForEvents(2);
    expect(onA.streamEvents.map((e) => e.event)).toEqual(['match:created', 'match:updated']);
    expect(onB.ids).toEqual(onA.ids);

    onB.close();
    for (let i = 0; i < 3; i++)
      expect(
        (await publish(a.url, admin, { matchId: 'cluster-match', action: 'match:updated', data: { i } })).status,
      ).toBe(202);
    const resumed = await open(b.url, onB.ids.at(-1));
    await resumed.waitForEvents(3);
    await onA.waitForEvents(5);
    expect(resumed.ids).toEqual(onA.ids.slice(2));

    // The runbook's counters live in the cluster too (flushed once a second).
    await eventually(
      async () => Number((await redis.hgetall(SSE_METRICS_HASH)).connections ?? 0) >= 3,
      'metrics:sse to count the connections',
    );
  });

  it('is observed by the controller on the node that owns the stream: every group, caught up', async () => {
    const stream = clusterStream();
    const a = await instanceOn(stream, 'observed-a');
    await instanceOn(stream, 'observed-b');
    const producer = await token('producer');
    for (let i = 0; i < 20; i++) await publish(a.url, producer, { matchId: 'm', action: 'match:updated' });

    const observe = () => observeStream(redis, { key: stream.key, groupPrefix: 'realtime-consumers', maxLen: 5000 });
    await eventually(async () => {
      const { groups } = await observe();
      return groups.length === 2 && groups.every((g) => g.pending === 0 && g.lag === 0);
    }, 'both groups to have read and acknowledged everything');
    const { stream: seen, groups } = await observe();
    expect(seen.length).toBe(20);
    expect(groups.map((g) => [g.group, g.pod]).sort()).toEqual([
      [groupName('realtime-consumers', 'observed-a'), 'observed-a'],
      [groupName('realtime-consumers', 'observed-b'), 'observed-b'],
    ]);
  });

  it('is read by npm run status through REDIS_CLUSTER_NODES: both groups, healthy, exit code 0', async () => {
    const stream = clusterStream();
    const a = await instanceOn(stream, 'status-a');
    await instanceOn(stream, 'status-b');
    const producer = await token('producer');
    for (let i = 0; i < 5; i++) await publish(a.url, producer, { matchId: 'm', action: 'match:updated' });
    await eventually(async () => {
      const { groups } = await observeStream(redis, {
        key: stream.key,
        groupPrefix: 'realtime-consumers',
        maxLen: 5000,
      });
      return groups.length === 2 && groups.every((g) => g.lag === 0 && g.pending === 0);
    }, 'both groups to have caught up');

    const run = await runStatusCommand(['--json'], {
      REDIS_CLUSTER_NODES: cluster.seeds,
      REALTIME_STREAM_KEY: stream.key,
    });
    expect(run.code, run.stderr || run.stdout).toBe(0);
    const report = JSON.parse(run.stdout) as Extract<StatusReport, { redis: 'ok' }>;
    expect(report.stream).toMatchObject({ key: stream.key, length: 5 });
    expect(report.groups.map((g) => [g.pod, g.verdict.state]).sort()).toEqual([
      ['status-a', 'ok'],
      ['status-b', 'ok'],
    ]);
  });
});

describe('a primary failover in the middle of a flood', () => {
  it('loses and duplicates nothing for clients that resume; every accepted event is in the stream', async () => {
    const stream = clusterStream();
    const instances = [await instanceOn(stream, 'failover-a'), await instanceOn(stream, 'failover-b')];
    const producer = await token('producer');
    const seed = (await (
      await publish(instances[0]!.url, producer, { matchId: 'm', action: 'match:created' })
    ).json()) as {
      id: string;
    };
    const clients = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const urls = instances.map((instance) => instance.url);
        const client = new ResumingClient({
          urls: i % 2 === 0 ? urls : urls.reverse(),
          token: await token('admin', [], { sub: `failover-${i}` }),
          lastEventId: seed.id,
          reconnectDelayMs: 50,
        });
        cleanups.push(() => client.stop());
        await client.start();
        return client;
      }),
    );

    const total = 1500;
    const before = await cluster.primaryFor(stream.key);
    let promoted: number | undefined;
    const outcome = await flood({
      urls: instances.map((instance) => instance.url),
      token: producer,
      total,
      concurrency: 4,
      event: (n) => ({ matchId: 'm', action: 'match:updated', data: { n } }),
      onProgress: async ({ accepted }) => {
        if (promoted === undefined && accepted.length >= total / 3) {
          promoted = -1;
          promoted = await cluster.failover(stream.key);
        }
      },
    });
    expect(promoted).toBeGreaterThan(0);
    expect(await cluster.primaryFor(stream.key)).toBe(promoted);
    expect(promoted).not.toBe(before);

    // And back again while nothing is published: the readers are blocked in XREADGROUP on the
    // old primary, which answers them with an error as it turns into a replica.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await cluster.failover(stream.key)).toBe(before);
    for (let n = 0; n < 50; n++)
      expect((await publish(instances[n % 2]!.url, producer, { matchId: 'm', action: 'match:updated' })).status).toBe(
        202,
      );

    // The truth is the stream on the primary now: every 202 is in it, and each client got
    // exactly its entries after the seed, in order. (A producer may have got 503 while the
    // primary paused writes: that event was refused, not lost.)
    const raw = (await redis.xrange(stream.key, `(${seed.id}`, '+')) as [string, string[]][];
    expect(raw).toHaveLength(outcome.accepted.length + 50);
    expect(raw.every(([id, fields]) => decodeEntry(id, fields) !== undefined)).toBe(true);
    const ids = raw.map(([id]) => id);
    expect(outcome.accepted.filter((id) => !ids.includes(id))).toEqual([]);
    expect(outcome.accepted.length).toBeGreaterThan(total * 0.9);
    await expectEveryEventOnce(clients, ids);
    const readErrors = await Promise.all(
      instances.map(async (instance) => (await instance.app.realtime.metrics.busErrors.get()).values[0]?.value ?? 0),
    );
    console.info(
      `[cluster] failover ${before} → ${promoted} mid-flood and back while idle: ${outcome.accepted.length} accepted, ` +
        `refused ${JSON.stringify([...outcome.statuses])}, ${ids.length} in the stream; reader errors per instance ` +
        `${readErrors.join(', ')}; ${clients.length} clients, ${clients.reduce((n, c) => n + c.connections - 1, 0)} reconnects, 0 lost, 0 duplicated`,
    );
  }, 120_000);
});
