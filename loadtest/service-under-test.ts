// The service under a load test run, for the suites that run the scenario with the Node
// runner (run.test.ts, prometheus-api.e2e.test.ts): replicas of the production entry on one
// test stream, and the environment a run reads.
import { inject } from 'vitest';
import { startServiceProcess, type ServiceProcess } from '#test-support/entry-processes';
import { TEST_SECRET, testStream, token } from '#test-support/instance';
import { startRoundRobinProxy, type RoundRobinProxy } from '#test-support/round-robin-proxy';

/** What a test started, for stopAll(); a test adds its own (a proxy, a Prometheus). */
export const running: { stop(): Promise<void> }[] = [];
/** Stops what the test started, last first (a proxy before the replicas behind it). */
export async function stopAll(): Promise<void> {
  for (const service of running.splice(0).reverse()) await service.stop();
}

/** Starts one replica of the service (main.ts) on free ports, reading `streamKey` through its own group. */
export async function startReplica(streamKey: string, pod: string): Promise<ServiceProcess> {
  const service = await startServiceProcess({
    REDIS_URL: inject('redisUrl'),
    AUTH_JWT_SECRET: TEST_SECRET,
    POD_NAME: pod,
    REALTIME_STREAM_KEY: streamKey,
    REALTIME_STREAM_MAXLEN: '100000',
    SSE_DRAIN_WINDOW_MS: '100',
    // 300 events (2.5 s at 120 ev/s) of slack, not 100: the runner reads every subscriber
    // in the test's own process, and on a starved two-core machine a one-second stall of
    // that process made a "fast" subscriber overflow. The slow subscribers' pause is sized
    // against it below.
    SSE_CLIENT_QUEUE_LIMIT: '300',
  });
  running.push(service);
  return service;
}

/**
 * The environment a load test run reads, for a service at `baseUrl` whose pods' metrics are
 * at `metricsUrls`: one token per subscriber (the service limits stream connects per identity).
 */
export async function runEnvironment(
  baseUrl: string,
  metricsUrls: string[],
  knobs: Record<string, string>,
): Promise<Record<string, string>> {
  const subscribers = Number(knobs.VUS) + Number(knobs.SLOW_VUS) + 1;
  // One identity per subscriber: the service limits stream connects per identity.
  const tokens = await Promise.all(
    Array.from({ length: subscribers }, (_, n) => token('admin', [], { sub: `loadtest-${n}` })),
  );
  return {
    BASE_URL: baseUrl,
    METRICS_URL: metricsUrls.join(','),
    TOKENS: tokens.join(','),
    PRODUCER_TOKEN: await token('producer'),
    MATCH_ID: 'loadtest-ci',
    SETTLE: '500ms',
    // Generous: the suite shares two cores with everything else; the p95 is a report here.
    TTFE_P95_MS: '10000',
    ...knobs,
  };
}

/**
 * Two replicas (pods loadtest-a and loadtest-b) on one stream behind a round-robin proxy,
 * as behind a Service. Streams alternate strictly between the replicas (their own rotation,
 * apart from the publishing connections), so with more slow subscribers than streams per
 * replica each replica serves at least one (TWO_REPLICA_KNOBS).
 */
export async function twoReplicasBehindProxy(): Promise<{ replicas: ServiceProcess[]; proxy: RoundRobinProxy }> {
  const stream = testStream();
  const replicas = [await startReplica(stream.key, 'loadtest-a'), await startReplica(stream.key, 'loadtest-b')];
  const proxy = await startRoundRobinProxy(
    replicas.map((replica) => ({ host: '127.0.0.1', port: Number(new URL(replica.url).port) })),
    { rotationOf: (first) => (first.toString('latin1').startsWith('GET /api/realtime/stream') ? 'streams' : 'other') },
  );
  running.push({ stop: () => proxy.close() });
  return { replicas, proxy };
}

/**
 * 2 fast + 4 slow subscribers: 3 streams per replica, so at least one slow one on each.
 * Through the proxy a paused subscriber has two connections' kernel buffers to fill
 * (service to proxy, proxy to client: about 9 MB seen here) before the socket buffer and the
 * 300-event queue (5.9 MB at 20 KiB): a 12 s pause publishes 1,440 x 20 KiB = 29.5 MB into
 * it, twice that.
 */
export const TWO_REPLICA_KNOBS = {
  VUS: '2',
  SLOW_VUS: '4',
  RATE: '120',
  DURATION: '14s',
  PAYLOAD_BYTES: '20480',
  SLOW_PAUSE: '12s',
};
