// Drill: Redis goes away (killed) and comes back from its append-only file. Readiness must
// flip so the Service stops routing, producers must get 503 with Retry-After instead of a
// hang or a lie, nothing accepted may be lost, and a short outage must not page as a stuck
// consumer once Redis is back.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { token } from '#test-support/instance';
import { waitUntil } from '#test-support/prometheus';
import { alertsMatching, expectLedgerClean, sampledQueries } from './support/drill.ts';
import { startSampler, Timeline } from './support/timeline.ts';
import { DrillWorld } from './support/world.ts';

const OUTAGE_MS = 10_000;
const timeline = new Timeline(
  'redis-restart',
  'Redis killed and restarted',
  `Redis is killed with SIGKILL and started again on the same port ${OUTAGE_MS / 1000} s later, from its ` +
    'append-only file (fsync always), while clients read and a producer publishes.',
);
const world = new DrillWorld({ timeline, kubeconfigPath: inject('kubeconfigPath') });
let stopSampler: (() => Promise<void>) | undefined;
let pods: string[] = [];
const refusals: { status: number; retryAfter: string | null }[] = [];

beforeAll(async () => {
  await world.start();
  stopSampler = startSampler(world.prometheus, timeline, sampledQueries(world.namespace));
  pods = world.runner.readyPods();
});

afterAll(async () => {
  await stopSampler?.();
  timeline.save();
  console.log(`timeline of ${timeline.drill}:\n${timeline.summary()}`);
  await world.stop();
});

describe('drill: a Redis restart', () => {
  it('readiness flips on every pod and producers get 503 with Retry-After', async () => {
    timeline.fault('Redis SIGKILL');
    await world.redis.kill();
    const until = Date.now() + OUTAGE_MS;
    const bearer = await token('producer');
    while (Date.now() < until) {
      // A producer that still reaches a pod directly (an endpoint not yet removed).
      for (const pod of pods) {
        const url = world.runner.process(pod)?.url;
        if (url === undefined) continue;
        const response = await fetch(`${url}/api/realtime/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
          body: JSON.stringify({ matchId: 'm-outage', action: 'match:updated' }),
          signal: AbortSignal.timeout(5_000),
        }).catch(() => undefined);
        if (response !== undefined) {
          if (response.status === 202)
            world.producer.ledger.accepted.push(((await response.json()) as { id: string }).id);
          else refusals.push({ status: response.status, retryAfter: response.headers.get('retry-after') });
        }
      }
      if (world.runner.readyPods().length === 0) timeline.markOnce('readiness flipped: no Ready pod');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(world.podEvents.filter((e) => e.kind === 'not_ready').map((e) => e.pod)).toEqual(
      expect.arrayContaining(pods),
    );
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((r) => r.status === 503 && r.retryAfter !== null)).toBe(true);
    timeline.mark('producers refused', `${refusals.length} answers 503 with Retry-After ${refusals[0]?.retryAfter}`);
  });

  it('Redis back: every pod Ready again', async () => {
    await world.redis.restart();
    timeline.mark('Redis restarted from its append-only file');
    await waitUntil('every pod Ready again', 60_000, async () =>
      pods.every((p) => world.runner.readyPods().includes(p)) ? true : undefined,
    );
    timeline.mark('all pods Ready again');
  });

  it('no consumer alert pages for the outage', async () => {
    await new Promise((resolve) => setTimeout(resolve, 30_000));
    const paged = [
      ...(await alertsMatching(world, { alertname: 'StreamConsumerStuck' })),
      ...(await alertsMatching(world, { alertname: 'StreamConsumerLagging' })),
    ].filter((a) => a.state === 'firing');
    expect(paged).toEqual([]);
  });

  it('nothing accepted was lost: every client holds every accepted event once, in order', async () => {
    await expectLedgerClean(world);
  });
});
