// Drill: slow clients flood drops. Three clients stop reading; once their sockets and queues
// are full, every event is dropped for each of them, a little over the operations notes'
// threshold (100 dropped per minute) for one minute. On-call should see it on the dashboard
// and be alerted at that threshold; a client reading beside them must be untouched.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { serviceMetrics, thresholds } from '#contract';
import { token } from '#test-support/instance';
import { waitUntil } from '#test-support/prometheus';
import { openRawSseClient, type RawSseClient } from '#test-support/raw-sse-client';
import { panelQueries, toPromQL } from '../dashboards/queries.ts';
import { expectLedgerClean, sampledQueries, waitForAlertState } from './support/drill.ts';
import { startSampler, Timeline } from './support/timeline.ts';
import { Producer } from './support/traffic.ts';
import { DrillWorld } from './support/world.ts';

const SLOW_CLIENTS = 3;
const timeline = new Timeline(
  'slow-clients',
  'Slow clients flood drops just over 100 per minute',
  `${SLOW_CLIENTS} clients stop reading. Large events fill their sockets and queues, then the producer’s ` +
    `one event per second is dropped for each of them (about ${SLOW_CLIENTS * 60} drops per minute) for one ` +
    'minute, while other clients keep reading.',
);
// One event per second: each slow client drops about 60 a minute once its queue is full.
const world = new DrillWorld({ timeline, kubeconfigPath: inject('kubeconfigPath'), publishIntervalMs: 1_000 });
let stopSampler: (() => Promise<void>) | undefined;
const slow: RawSseClient[] = [];
const ns = () => `namespace="${world.namespace}"`;
const dashboard = JSON.parse(
  readFileSync(join(import.meta.dirname, '../dashboards/generated/realtime-oncall.json'), 'utf8'),
) as unknown;
const dropPanel = panelQueries(dashboard).find((q) => q.panel === 'Dropped / min');
let dashboardPeak = 0;

beforeAll(async () => {
  await world.start();
  stopSampler = startSampler(world.prometheus, timeline, sampledQueries(world.namespace));
});

afterAll(async () => {
  await stopSampler?.();
  for (const client of slow) client.close();
  timeline.save();
  console.log(`timeline of ${timeline.drill}:\n${timeline.summary()}`);
  await world.stop();
});

async function droppedTotal(): Promise<number> {
  const result = await world.prometheus.query(`sum(${serviceMetrics.eventsDropped}{${ns()}})`);
  return Number(result[0]?.value[1] ?? 0);
}

describe('drill: slow clients drop more than 100 events a minute for a minute', () => {
  it('slow clients fill up, then drop every event', async () => {
    const pod = world.runner.readyPods()[0] ?? '';
    const url = world.runner.process(pod)?.url ?? '';
    for (let i = 0; i < SLOW_CLIENTS; i++) {
      const bearer = await token('admin', [], { sub: `slow-${i}` });
      slow.push(await openRawSseClient(url, `/api/realtime/stream?access_token=${bearer}`, { paused: true }));
    }
    // Large events fill the paused sockets' kernel buffers, then their queues.
    const filler = new Producer(() => url, { intervalMs: 0, payloadBytes: 30_000, ledger: world.producer.ledger });
    for (let sent = 0; sent < 1_000 && (await droppedTotal()) === 0; sent += 20) await filler.burst(20);
    // On a quiet machine the filler can finish before Prometheus has scraped the first drop.
    await waitUntil('the first drops scraped', 30_000, async () => ((await droppedTotal()) > 0 ? true : undefined));
    timeline.fault('slow clients full: drops begin', `${SLOW_CLIENTS} paused clients on ${pod}`);
  });

  it('the dashboard shows more than 100 drops a minute during the flood minute', async () => {
    expect(dropPanel).toBeDefined();
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const value = await world.prometheus.query(toPromQL(dropPanel?.expr ?? ''));
      dashboardPeak = Math.max(dashboardPeak, Number(value[0]?.value[1] ?? 0));
      if (dashboardPeak > thresholds.droppedEventsPerMinute)
        timeline.markOnce('dashboard: Dropped / min over 100', dashboardPeak.toFixed(0));
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    for (const client of slow) client.close();
    timeline.mark('slow clients gone: the flood minute is over', `peak ${dashboardPeak.toFixed(0)} per minute`);
    expect(dashboardPeak).toBeGreaterThan(thresholds.droppedEventsPerMinute);
  });

  // Waits on s15a (issue 15 point 6): today the alert averages over 5 minutes and then needs
  // 5 minutes of for:, so a minute just over the threshold never shows.
  it('SSEDroppedEventsHigh pages for that minute', async () => {
    await waitForAlertState(
      world,
      { alertname: 'SSEDroppedEventsHigh' },
      'firing',
      'paged: SSEDroppedEventsHigh',
      60_000,
    );
  });

  it('a reading client beside them is untouched: every event once, in order, no resync', async () => {
    await waitUntil('drops to stop', 30_000, async () => {
      const before = await droppedTotal();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      return (await droppedTotal()) === before ? true : undefined;
    });
    await expectLedgerClean(world);
  });
});
