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
import { afterEach, describe, expect, it } from 'vitest';
import { testStream } from '#test-support/instance';
import { planFrom } from './plan.js';
import { passed, summaryText, type RunSummary } from './summary.js';
import { runScenario } from './run.ts';
import {
  TWO_REPLICA_KNOBS,
  runEnvironment,
  startReplica,
  stopAll,
  twoReplicasBehindProxy,
} from './service-under-test.ts';

const runnerEntry = fileURLToPath(new URL('./run.ts', import.meta.url));
afterEach(stopAll);

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
    const { replicas, proxy } = await twoReplicasBehindProxy();
    const metricsUrls = replicas.map((replica) => replica.metricsUrl);
    const plan = planFrom(await runEnvironment(proxy.url, metricsUrls, TWO_REPLICA_KNOBS));
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
