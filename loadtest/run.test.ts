// The load test's scenario, run by the Node stand-in for k6 against a running service (the
// production entry in its own process, the suite's Redis) at modest numbers: slow
// subscribers make the service drop events and every drop is counted; fast subscribers
// beside them receive every published id; without slow subscribers nothing is dropped.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startServiceProcess, type ServiceProcess } from '#test-support/entry-processes';
import { TEST_SECRET, testStream, token } from '#test-support/instance';
import { startRoundRobinProxy } from '#test-support/round-robin-proxy';
import { planFrom } from './plan.js';
import { passed, summaryText, type RunSummary } from './summary.js';
import { runScenario } from './run.ts';

const runnerEntry = fileURLToPath(new URL('./run.ts', import.meta.url));
const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const service of running.splice(0).reverse()) await service.stop();
});

/** Starts one replica of the service (main.ts) on free ports, reading `streamKey` through its own group. */
async function startReplica(streamKey: string, pod: string): Promise<ServiceProcess> {
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
async function runEnvironment(
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

/** Starts the service (one replica); answers the environment a load test run reads. */
async function serviceUnderTest(knobs: Record<string, string>): Promise<Record<string, string>> {
  const stream = testStream();
  const service = await startReplica(stream.key, `loadtest-${stream.key.split(':')[1] ?? 'ci'}`);
  return runEnvironment(service.url, [service.metricsUrl], knobs);
}

describe('the load test scenario (Node runner)', () => {
  it('with slow subscribers: the service drops events for them and counts every one; fast subscribers get every published id', async () => {
    const plan = planFrom(
      await serviceUnderTest({
        // A paused subscriber drops only once the kernel buffers (about 5 MB seen here), the
        // socket buffer and the 300-event queue (4.9 MB) are full: a 10 s pause publishes
        // 1,200 x 16 KiB = 19.7 MB into it, twice that. Four fast subscribers are enough to
        // show that they are untouched, and cheap enough for the test's own process to read.
        VUS: '4',
        SLOW_VUS: '2',
        RATE: '120',
        DURATION: '12s',
        PAYLOAD_BYTES: '16384',
        SLOW_PAUSE: '10s',
      }),
    );
    const result = await runScenario(plan);
    const { summary } = result;
    expect(passed(summary), summaryText(summary)).toBe(true);

    expect(result.published.length).toBe(1440);
    const fast = result.subscribers.filter((subscriber) => subscriber.role === 'fast');
    expect(fast).toHaveLength(4);
    for (const subscriber of fast) expect(subscriber.ids).toEqual(result.published);

    const dropped = summary.numbers?.droppedQueueFull ?? 0;
    expect(dropped).toBeGreaterThan(0);
    const slow = result.subscribers.filter((subscriber) => subscriber.role === 'slow');
    expect(slow).toHaveLength(2);
    // Every event the slow subscribers missed (updates, and any marker or report that came
    // while their queue was full) is one the service counted as dropped; what they did get
    // is the published list with holes, in order, each hole announced.
    expect(summary.numbers?.slowMissed).toBe(dropped);
    const missedUpdates = slow.reduce(
      (total, subscriber) => total + result.published.length - subscriber.ids.length,
      0,
    );
    expect(missedUpdates).toBeGreaterThan(0);
    expect(missedUpdates).toBeLessThanOrEqual(dropped);
    for (const subscriber of slow) {
      expect(subscriber.ids).toEqual(result.published.filter((id) => subscriber.ids.includes(id)));
      if (subscriber.ids.length < result.published.length) expect(subscriber.resyncs).toBeGreaterThan(0);
    }
  }, 90_000);

  it('two replicas behind a round-robin proxy: the drops of both are counted, and each replica dropped for its own slow subscriber', async () => {
    const stream = testStream();
    const replicas = [await startReplica(stream.key, 'loadtest-a'), await startReplica(stream.key, 'loadtest-b')];
    // Streams alternate strictly between the replicas (their own rotation, apart from the
    // publishing connections), so with more slow subscribers than streams per replica each
    // replica serves at least one: 2 fast + 4 slow = 3 streams per replica.
    const proxy = await startRoundRobinProxy(
      replicas.map((replica) => ({ host: '127.0.0.1', port: Number(new URL(replica.url).port) })),
      {
        rotationOf: (first) => (first.toString('latin1').startsWith('GET /api/realtime/stream') ? 'streams' : 'other'),
      },
    );
    running.push({ stop: () => proxy.close() });
    const metricsUrls = replicas.map((replica) => replica.metricsUrl);
    const plan = planFrom(
      await runEnvironment(proxy.url, metricsUrls, {
        // Through the proxy a paused subscriber has two connections' kernel buffers to fill
        // (service to proxy, proxy to client: about 9 MB seen here) before the socket buffer
        // and the 300-event queue (5.9 MB at 20 KiB): a 12 s pause publishes 1,440 x 20 KiB
        // = 29.5 MB into it, twice that.
        VUS: '2',
        SLOW_VUS: '4',
        RATE: '120',
        DURATION: '14s',
        PAYLOAD_BYTES: '20480',
        SLOW_PAUSE: '12s',
      }),
    );
    const result = await runScenario(plan);
    const { summary } = result;
    expect(passed(summary), summaryText(summary)).toBe(true);
    // 6 subscribers and teardown's replay.
    expect(proxy.connections('streams')).toEqual([4, 3]);

    const dropped = summary.numbers?.droppedQueueFull ?? 0;
    const perReplica = metricsUrls.map((url) => result.droppedByInstance[url] ?? 0);
    console.log(
      `two replicas: dropped ${perReplica.join(' + ')} = ${dropped} (queue_full), missed by slow subscribers ${summary.numbers?.slowMissed}`,
    );
    for (const drops of perReplica) expect(drops).toBeGreaterThan(0);
    expect(perReplica[0]! + perReplica[1]!).toBe(summary.numbers?.droppedTotal);
    expect(summary.numbers?.slowMissed).toBe(dropped);
    for (const subscriber of result.subscribers.filter((s) => s.role === 'fast'))
      expect(subscriber.ids).toEqual(result.published);
  }, 120_000);

  it('without slow subscribers: nothing is dropped and every subscriber gets every published id', async () => {
    const plan = planFrom(
      await serviceUnderTest({ VUS: '20', SLOW_VUS: '0', RATE: '100', DURATION: '2s', PAYLOAD_BYTES: '4096' }),
    );
    const result = await runScenario(plan);
    expect(passed(result.summary), summaryText(result.summary)).toBe(true);
    expect(result.summary.numbers?.droppedTotal).toBe(0);
    expect(result.published.length).toBe(200);
    for (const subscriber of result.subscribers) expect(subscriber.ids).toEqual(result.published);
  }, 60_000);

  it('as a command (npm run loadtest:node) fails the run when a verdict fails: slow subscribers that never overflow', async () => {
    // A pause far too short to fill any buffer: the service drops nothing, which the run
    // must report as a failure rather than as "no drops, all good".
    const env = await serviceUnderTest({
      VUS: '3',
      SLOW_VUS: '1',
      RATE: '20',
      DURATION: '1s',
      PAYLOAD_BYTES: '256',
      SLOW_PAUSE: '100ms',
    });
    const dir = mkdtempSync(join(tmpdir(), 'loadtest-'));
    try {
      const child = spawn(process.execPath, [runnerEntry], {
        env: { PATH: process.env.PATH, ...env, SUMMARY_JSON: join(dir, 'summary.json') },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, stdout).toBe(1);
      expect(stdout).toMatch(/FAIL drops_only_with_slow: slow subscribers ran but nothing was dropped/);
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
      expect(summary.verdicts.filter((verdict) => !verdict.ok).map((verdict) => verdict.rule)).toEqual([
        'drops_only_with_slow',
      ]);
      expect(summary.numbers?.published).toBe(20);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
