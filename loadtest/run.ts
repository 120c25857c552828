// The CI stand-in for k6: runs the scenario of loadtest/sse.js (plan.js: who subscribes;
// room.js: what is published; the ledgers and verdict.js: how the run is judged) against
// a running service with Node's http, the same knobs from the environment and the same
// verdicts. k6 is AGPL and not installed here; this runner is what `npm test` and CI
// exercise.
//
//   BASE_URL=... METRICS_URL=... TOKEN=... npm run loadtest:node
//
// Exits 0 when every verdict passed, 1 otherwise; SUMMARY_JSON=path also writes the JSON.
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { planFrom, subscriberToken, type Plan, type Role } from './plan.js';
import { helloEvent, newRunId, publishUrl, reportEvent, roomEvent, streamUrl, updateEvent } from './room.js';
import { SubscriberLedger } from './subscriber-ledger.js';
import { RoomLedger } from './room-ledger.js';
import { judgeRun } from './verdict.js';
import { snapshotDelta, sseSnapshot, type SseSnapshot } from './prometheus.js';
import {
  freshnessQuery,
  instantQueryUrl,
  scrapedSince,
  snapshotFromAnswers,
  snapshotQueries,
  type QueryAnswer,
} from './prometheus-api.js';
import { passed, summaryText, timingOf, type RunSummary } from './summary.js';
import { runnerChecks } from './runner-checks.js';
import { openStream } from './node/stream.ts';

export interface SubscriberResult {
  readonly role: Role;
  readonly subscriber: number;
  /** Update ids in the order received. */
  readonly ids: readonly string[];
  readonly resyncs: number;
}

export interface RunResult {
  readonly summary: RunSummary;
  /** Update ids published in the run, in stream order (the room's replay). */
  readonly published: readonly string[];
  readonly subscribers: readonly SubscriberResult[];
  /** Events each service instance dropped during the run, by instance (METRICS_URL endpoint or pod). */
  readonly droppedByInstance: Readonly<Record<string, number>>;
}

interface Counts {
  publishFailures: number;
  streamErrors: number;
}

async function publish(plan: Plan, body: object, counts: Counts): Promise<string | undefined> {
  try {
    const response = await fetch(publishUrl(plan), {
      method: 'POST',
      headers: { authorization: `Bearer ${plan.producerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { id?: unknown };
    if (response.status === 202 && typeof answer.id === 'string') return answer.id;
  } catch {
    // counted below, like a non-202 answer
  }
  counts.publishFailures++;
  return undefined;
}

async function prometheusQuery(plan: Plan, query: string, atMs: number): Promise<QueryAnswer> {
  const response = await fetch(instantQueryUrl(plan.prometheusUrl, query, atMs));
  if (response.status !== 200) throw new Error(`${plan.prometheusUrl} answered ${response.status}`);
  return (await response.json()) as QueryAnswer;
}

/** How long the judge waits for Prometheus to scrape every pod after the run (several scrape intervals). */
const PROMETHEUS_FRESHNESS_WAIT_MS = 120_000;

/**
 * As sse.js's readMetrics(): the service's figures summed over its pods, from Prometheus
 * when PROMETHEUS_URL is set (each series' last value since `runStartMs`, once every pod
 * was scraped after `notBeforeMs`), else scraped from every METRICS_URL now.
 */
async function readMetrics(
  plan: Plan,
  window: { runStartMs?: number; notBeforeMs?: number } = {},
): Promise<SseSnapshot> {
  if (plan.prometheusUrl !== '') {
    const notBeforeMs = window.notBeforeMs ?? 0;
    const waitUntil = Date.now() + PROMETHEUS_FRESHNESS_WAIT_MS;
    while (
      !scrapedSince(await prometheusQuery(plan, freshnessQuery(plan.prometheusSelector), Date.now()), notBeforeMs)
    ) {
      if (Date.now() > waitUntil)
        throw new Error(`Prometheus has not scraped every pod since ${new Date(notBeforeMs).toISOString()}`);
      await sleep(1000);
    }
    const atMs = Date.now();
    const queries = snapshotQueries(plan.prometheusSelector, atMs, window.runStartMs);
    return snapshotFromAnswers(
      await Promise.all(
        queries.map(async ({ name, query }) => ({ name, answer: await prometheusQuery(plan, query, atMs) })),
      ),
    );
  }
  const texts = await Promise.all(
    plan.metricsUrls.map(async (url) => {
      const response = await fetch(url);
      if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
      return response.text();
    }),
  );
  return sseSnapshot(texts, plan.metricsUrls);
}

/** One subscriber, as sse.js's subscribe(): stream from the start marker to the end marker, then report. */
async function subscribe(
  plan: Plan,
  run: string,
  startId: string,
  role: Role,
  subscriber: number,
  giveUpAt: number,
  counts: Counts,
) {
  await publish(plan, helloEvent(plan, run, role, subscriber), counts);
  const ledger = new SubscriberLedger(run, role, subscriber, Date.now(), { keepIds: true });
  let paused = false;
  const outcome = await openStream(
    streamUrl(plan, startId),
    subscriberToken(plan, subscriber),
    (message, control) => {
      const seen = ledger.observe(message, Date.now());
      if (seen === 'first' && role === 'slow' && !paused) {
        paused = true;
        control.pause(plan.slowPauseSeconds * 1000);
      }
      // One process runs every subscriber and the end marker always comes, so no closing on
      // time (sse.js needs it under the k6-operator only).
      if (seen === 'end') control.close();
    },
    giveUpAt,
  );
  if (outcome.ended !== 'closed') counts.streamErrors++;
  await publish(plan, reportEvent(plan, run, ledger.report()), counts);
  return ledger;
}

/** Publishes `update` events at plan.rate for plan.durationSeconds, as k6's constant-arrival-rate. */
async function produce(plan: Plan, run: string, counts: Counts): Promise<void> {
  const startedAt = Date.now();
  const total = Math.round(plan.rate * plan.durationSeconds);
  const inFlight: Promise<unknown>[] = [];
  for (let seq = 0; seq < total; seq++) {
    const due = startedAt + (seq * 1000) / plan.rate;
    if (due > Date.now()) await sleep(due - Date.now());
    inFlight.push(publish(plan, updateEvent(plan, run, seq), counts));
  }
  await Promise.all(inFlight);
}

/** Waits until the service has counted every closed stream, or a few seconds. */
async function settledMetrics(plan: Plan, before: SseSnapshot, runStartMs: number): Promise<SseSnapshot> {
  const window = { runStartMs, notBeforeMs: Date.now() + 1000 };
  let after = await readMetrics(plan, window);
  for (let attempt = 0; attempt < 40 && after.connections > before.connections; attempt++) {
    await sleep(250);
    window.notBeforeMs = Date.now();
    after = await readMetrics(plan, window);
  }
  return after;
}

export async function runScenario(plan: Plan, log: (line: string) => void = () => undefined): Promise<RunResult> {
  const counts: Counts = { publishFailures: 0, streamErrors: 0 };
  const runStartMs = Date.now();
  const before = await readMetrics(plan);
  const run = newRunId();
  const startId = await publish(plan, roomEvent(plan, run, 'start'), counts);
  if (startId === undefined) throw new Error('could not publish the start marker: check BASE_URL and PRODUCER_TOKEN');
  log(
    `run ${run}: ${plan.fastSubscribers} fast and ${plan.slowSubscribers} slow subscribers, ${plan.rate}/s for ${plan.durationSeconds}s`,
  );

  const giveUpAt = Date.now() + (plan.durationSeconds + plan.settleSeconds + 60) * 1000;
  const roles: Role[] = [
    ...Array<Role>(plan.fastSubscribers).fill('fast'),
    ...Array<Role>(plan.slowSubscribers).fill('slow'),
  ];
  const subscribers = roles.map((role, index) => subscribe(plan, run, startId, role, index + 1, giveUpAt, counts));

  await produce(plan, run, counts);
  await sleep(plan.settleSeconds * 1000);
  // As sse.js's endRun(): the end marker, repeated while subscribers remain (a slow one
  // still catching up may have had it dropped).
  let finished = false;
  const ledgersDone = Promise.all(subscribers).finally(() => (finished = true));
  await publish(plan, roomEvent(plan, run, 'end'), counts);
  for (let repeat = 0; repeat < 15 && !finished; repeat++) {
    await Promise.race([ledgersDone, sleep(2000)]);
    if (!finished) await publish(plan, roomEvent(plan, run, 'end'), counts);
  }
  const ledgers = await ledgersDone;

  // Teardown: replay the room from the start marker to a fence, then judge.
  const fenceId = await publish(plan, roomEvent(plan, run, 'fence'), counts);
  if (fenceId === undefined) throw new Error('could not publish the fence');
  const room = new RoomLedger(run, fenceId, { keepIds: true });
  await openStream(
    streamUrl(plan, startId),
    subscriberToken(plan, 0),
    (message, control) => {
      if (room.observe(message) || room.resyncs > 0) control.close();
    },
    Date.now() + 60_000,
  );
  const delta = snapshotDelta(before, await settledMetrics(plan, before, runStartMs));
  const { verdicts, numbers } = judgeRun(plan, room.facts(), delta);
  const timeToFirstEventMs = timingOf(
    ledgers.flatMap((ledger) => (ledger.firstEventMs === null ? [] : [ledger.firstEventMs])),
  );
  const summary: RunSummary = {
    runner: 'node',
    run,
    verdicts: [...verdicts, ...runnerChecks({ ...counts, timeToFirstEventMs, ttfeP95Ms: plan.ttfeP95Ms })],
    numbers,
    timeToFirstEventMs,
  };
  return {
    summary,
    published: room.ids ?? [],
    droppedByInstance: delta.droppedByInstance,
    subscribers: ledgers.map((ledger) => ({
      role: ledger.role,
      subscriber: ledger.subscriber,
      ids: ledger.ids ?? [],
      resyncs: ledger.resyncs,
    })),
  };
}

if (import.meta.main) {
  const plan = planFrom(process.env);
  const result = await runScenario(plan, (line) => console.log(line));
  process.stdout.write(summaryText(result.summary));
  const jsonPath = process.env.SUMMARY_JSON;
  if (jsonPath !== undefined && jsonPath !== '')
    writeFileSync(jsonPath, `${JSON.stringify(result.summary, null, 2)}\n`);
  process.exitCode = passed(result.summary) ? 0 : 1;
}
