// `k6 run loadtest/sse.js`: proves a deployment holds under SSE load and that the events it
// drops for slow clients are counted. Needs k6 with the xk6-sse extension (loadtest/README.md).
// Three kinds of virtual users share one room (MATCH_ID): fast subscribers that read
// everything, slow subscribers that stop reading for SLOW_PAUSE until the service's queue
// for them overflows, and producers publishing match updates at RATE per second. The
// scenario's logic lives in the plain modules beside it (shared with the Node runner CI
// uses: plan.js, room.js, subscriber-ledger.js, room-ledger.js, verdict.js, prometheus.js,
// summary.js); this file wires it to k6. Thresholds turn every verdict into a pass/fail; handleSummary writes
// loadtest-summary.json and loadtest-summary.txt.
/* global __ENV, console -- k6 provides both */
import http from 'k6/http';
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Gauge, Trend } from 'k6/metrics';
import sse from 'k6/x/sse';
import { planFrom, subscriberToken } from './plan.js';
import {
  helloEvent,
  newRunId,
  publishUrl,
  reportEvent,
  roomEvent,
  runFieldsOf,
  streamUrl,
  updateEvent,
} from './room.js';
import { SubscriberLedger } from './subscriber-ledger.js';
import { RoomLedger } from './room-ledger.js';
import { VERDICT_RULES, judgeRun } from './verdict.js';
import { snapshotDelta, sseSnapshot } from './prometheus.js';
import {
  freshnessQuery,
  instantQueryUrl,
  scrapedSince,
  snapshotFromAnswers,
  snapshotQueries,
} from './prometheus-api.js';
import { NUMBER_METRICS, TIME_TO_FIRST_EVENT, summaryFromK6, summaryText, verdictMetric } from './summary.js';

// Every knob by name (plan.js KNOBS lists them; a test keeps the two equal), so whoever
// deploys the script can see what it reads.
const plan = planFrom({
  BASE_URL: __ENV.BASE_URL,
  METRICS_URL: __ENV.METRICS_URL,
  PROMETHEUS_URL: __ENV.PROMETHEUS_URL,
  PROMETHEUS_SELECTOR: __ENV.PROMETHEUS_SELECTOR,
  TOKEN: __ENV.TOKEN,
  TOKENS: __ENV.TOKENS,
  PRODUCER_TOKEN: __ENV.PRODUCER_TOKEN,
  MATCH_ID: __ENV.MATCH_ID,
  VUS: __ENV.VUS,
  SLOW_VUS: __ENV.SLOW_VUS,
  RATE: __ENV.RATE,
  DURATION: __ENV.DURATION,
  PAYLOAD_BYTES: __ENV.PAYLOAD_BYTES,
  SLOW_PAUSE: __ENV.SLOW_PAUSE,
  SETTLE: __ENV.SETTLE,
  TTFE_P95_MS: __ENV.TTFE_P95_MS,
});

/** Seconds from the start of the test until subscribers must have seen the end marker. */
const endMarkerAt = plan.durationSeconds + plan.settleSeconds;
const subscriberDeadline = endMarkerAt + 60;

const timeToFirstEvent = new Trend(TIME_TO_FIRST_EVENT, true);
const publishFailures = new Counter('loadtest_publish_failures');
const streamErrors = new Counter('loadtest_stream_errors');
/** @type {Record<string, Gauge>} */
const verdictGauges = {};
for (const rule of VERDICT_RULES) verdictGauges[rule] = new Gauge(verdictMetric(rule));
/** @type {Record<string, Gauge>} */
const numberGauges = {};
for (const [key, name] of Object.entries(NUMBER_METRICS)) numberGauges[key] = new Gauge(name);

/** @type {Record<string, import('k6/options').Threshold[]>} */
const thresholds = {
  [TIME_TO_FIRST_EVENT]: [`p(95)<${plan.ttfeP95Ms}`],
  loadtest_publish_failures: ['count==0'],
  loadtest_stream_errors: ['count==0'],
  checks: ['rate==1'],
};
// Teardown sets each verdict gauge to 1 (passed) or 0 (failed).
for (const rule of VERDICT_RULES) thresholds[verdictMetric(rule)] = ['value==1'];

/**
 * @param {string} fn name of the exported function the scenario runs
 * @param {number} vus
 * @returns {import('k6/options').Scenario}
 */
function subscribers(fn, vus) {
  return {
    executor: 'per-vu-iterations',
    exec: fn,
    vus,
    iterations: 1,
    maxDuration: `${subscriberDeadline}s`,
    gracefulStop: '10s',
  };
}

/** @type {Record<string, import('k6/options').Scenario>} */
const scenarios = {
  fast_subscribers: subscribers('fastSubscriber', plan.fastSubscribers),
  producers: {
    executor: 'constant-arrival-rate',
    exec: 'produce',
    rate: plan.rate,
    timeUnit: '1s',
    duration: `${plan.durationSeconds}s`,
    preAllocatedVUs: Math.max(2, Math.ceil(plan.rate / 20)),
    maxVUs: Math.max(10, Math.ceil(plan.rate / 2)),
    gracefulStop: '5s',
  },
  end_marker: { executor: 'per-vu-iterations', exec: 'endRun', vus: 1, iterations: 1, startTime: `${endMarkerAt}s` },
};
if (plan.slowSubscribers > 0) scenarios.slow_subscribers = subscribers('slowSubscriber', plan.slowSubscribers);

/** @type {import('k6/options').Options} */
export const options = {
  scenarios,
  thresholds,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'count'],
  // A later runner waits up to START_WAIT_MS for the first runner's start marker.
  setupTimeout: '120s',
  // The replay (up to 60 s), then Prometheus' next scrape of every pod (up to 120 s).
  teardownTimeout: '300s',
};

/**
 * @typedef {{
 *   run: string, startId: string, startedAtMs: number,
 *   judge: boolean, before: import('./prometheus.js').SseSnapshot | null,
 * }} SetupData judge: this k6 instance judges the whole run (alone, or the k6-operator's
 *   runner of the first execution segment); its `before` is the run's one baseline
 */

/** @param {string} token */
function bearer(token) {
  return { Authorization: `Bearer ${token}` };
}

/**
 * Publishes one event; the stream id on 202, undefined otherwise (counted).
 * @param {object} body
 * @returns {string | undefined}
 */
function publish(body) {
  const response = http.post(publishUrl(plan), JSON.stringify(body), {
    headers: { ...bearer(plan.producerToken), 'Content-Type': 'application/json' },
    tags: { name: 'publish' },
  });
  const id = response.status === 202 ? response.json('id') : undefined;
  if (typeof id === 'string') return id;
  publishFailures.add(1);
  console.error(`publish answered ${response.status}: ${String(response.body).slice(0, 200)}`);
  return undefined;
}

/**
 * @param {string} url
 * @returns {import('./prometheus-api.js').QueryAnswer}
 */
function prometheusQuery(url) {
  const response = http.get(url, { tags: { name: 'prometheus' } });
  if (response.status !== 200) throw new Error(`${plan.prometheusUrl} answered ${response.status}: ${response.body}`);
  return /** @type {import('./prometheus-api.js').QueryAnswer} */ (response.json());
}

/**
 * The service's SSE figures, summed over its pods: from Prometheus when PROMETHEUS_URL is
 * set (every replica, also those gone by now; `runStartMs` given: each series' last value
 * since then, once every pod was scraped after `notBeforeMs`), else scraped from every
 * METRICS_URL now.
 * @param {{ runStartMs?: number, notBeforeMs?: number }} [window]
 */
function readMetrics(window = {}) {
  if (plan.prometheusUrl !== '') {
    const notBeforeMs = window.notBeforeMs ?? 0;
    const waitUntil = Date.now() + PROMETHEUS_FRESHNESS_WAIT_MS;
    while (
      !scrapedSince(
        prometheusQuery(instantQueryUrl(plan.prometheusUrl, freshnessQuery(plan.prometheusSelector), Date.now())),
        notBeforeMs,
      )
    ) {
      if (Date.now() > waitUntil)
        throw new Error(`Prometheus has not scraped every pod since ${new Date(notBeforeMs).toISOString()}`);
      sleep(2);
    }
    const atMs = Date.now();
    return snapshotFromAnswers(
      snapshotQueries(plan.prometheusSelector, atMs, window.runStartMs).map(({ name, query }) => ({
        name,
        answer: prometheusQuery(instantQueryUrl(plan.prometheusUrl, query, atMs)),
      })),
    );
  }
  const texts = plan.metricsUrls.map((url) => {
    const response = http.get(url, { tags: { name: 'metrics' } });
    if (response.status !== 200 || typeof response.body !== 'string')
      throw new Error(`${url} answered ${response.status}`);
    return response.body;
  });
  return sseSnapshot(texts, plan.metricsUrls);
}

/** How long teardown waits for Prometheus to scrape every pod after the run (several scrape intervals). */
const PROMETHEUS_FRESHNESS_WAIT_MS = 120_000;

/**
 * True unless this k6 runs a later execution segment of a distributed test: alone, or the
 * k6-operator's runner whose segment starts at 0. That instance owns the run: its setup()
 * takes the one baseline and publishes the start marker, its teardown() judges.
 */
function judgesTheRun() {
  const segment = exec.test.options.executionSegment;
  return segment === undefined || segment === '' || /^0(:|$)/.test(String(segment));
}

/** How far back, in the service's clock, a later runner looks for the first runner's start marker. */
const START_LOOKBACK_MS = 30_000;
/** How long a later runner waits for that marker. */
const START_WAIT_MS = 90_000;

/**
 * A later runner's setup: every runner runs setup() (the k6-operator starts them all at
 * once), but one run needs one start marker and one baseline, so this one joins the first
 * runner's run. Its position in the service's clock comes from a probe published to a room
 * no subscriber follows; it then streams the room from a little before that and takes the
 * first start marker it finds there.
 * @returns {SetupData}
 */
function joinRun() {
  const probeId = publish(roomEvent({ ...plan, matchId: `${plan.matchId}-join` }, '', 'join'));
  if (probeId === undefined) exec.test.abort('could not publish: check BASE_URL and PRODUCER_TOKEN');
  const lookFrom = `${Math.max(0, Number(String(probeId).split('-')[0]) - START_LOOKBACK_MS)}-0`;
  const giveUpAt = Date.now() + START_WAIT_MS;
  /** @type {SetupData | undefined} */
  let joined;
  sse.open(
    streamUrl(plan, lookFrom),
    { headers: bearer(subscriberToken(plan, 0)), tags: { role: 'join' } },
    (client) => {
      client.on('event', (event) => {
        const fields = runFieldsOf(event.data);
        if (joined === undefined && fields?.kind === 'start' && typeof fields.loadtest === 'string' && event.id) {
          const startedAtMs = typeof fields.startedAtMs === 'number' ? fields.startedAtMs : Date.now();
          joined = { run: fields.loadtest, startId: event.id, startedAtMs, judge: false, before: null };
        }
        if (joined !== undefined || Date.now() > giveUpAt) client.close();
      });
    },
  );
  if (joined === undefined) exec.test.abort('no start marker from the first runner: is its setup failing?');
  console.log(`joined run ${joined?.run}; the first runner judges it`);
  return /** @type {SetupData} */ (joined);
}

/** @returns {SetupData} */
export function setup() {
  if (!judgesTheRun()) return joinRun();
  const startedAtMs = Date.now();
  const before = readMetrics();
  const run = newRunId();
  const startId = publish(roomEvent(plan, run, 'start', { startedAtMs }));
  if (startId === undefined) exec.test.abort('could not publish the start marker: check BASE_URL and PRODUCER_TOKEN');
  return { run, startId: startId ?? '', startedAtMs, judge: true, before };
}

/** @param {SetupData} data */
export function produce(data) {
  publish(updateEvent(plan, data.run, exec.scenario.iterationInTest));
}

/** End markers published after the first, 2 s apart, for subscribers whose queue was still full. */
const END_MARKER_REPEATS = 5;

/**
 * Tells subscribers the run is over. A slow subscriber still catching up when the marker
 * comes may have it dropped like any other event; the repeats reach it once it has drained.
 * @param {SetupData} data
 */
export function endRun(data) {
  publish(roomEvent(plan, data.run, 'end'));
  for (let repeat = 0; repeat < END_MARKER_REPEATS; repeat++) {
    sleep(2);
    publish(roomEvent(plan, data.run, 'end'));
  }
}

/**
 * One subscriber: streams the room from the start marker until the end marker, then
 * reports what it saw. A slow one sleeps inside its event handler: xk6-sse hands events
 * over one at a time, so while the handler sleeps the extension stops reading the socket,
 * the kernel buffers fill and the service queues, then drops, what it cannot write.
 * @param {SetupData} data
 * @param {'fast' | 'slow'} role
 */
function subscribe(data, role) {
  const subscriber = exec.vu.idInTest;
  publish(helloEvent(plan, data.run, role, subscriber));
  const ledger = new SubscriberLedger(data.run, role, subscriber, Date.now());
  const giveUpAt = exec.scenario.startTime + subscriberDeadline * 1000 - 5000;
  let paused = false;
  let reported = false;
  const report = () => {
    if (reported) return;
    reported = true;
    publish(reportEvent(plan, data.run, ledger.report()));
  };
  const response = sse.open(
    streamUrl(plan, data.startId),
    { headers: bearer(subscriberToken(plan, subscriber)), tags: { role } },
    (client) => {
      client.on('event', (event) => {
        const seen = ledger.observe(event, Date.now());
        if (seen === 'first') {
          timeToFirstEvent.add(ledger.firstEventMs ?? 0, { role });
          if (role === 'slow' && !paused) {
            paused = true;
            sleep(plan.slowPauseSeconds);
          }
        }
        // The end marker ends the run for this subscriber (every runner's subscribers share
        // the run, whichever runner has the end marker's VU). Report before closing: the
        // report must not wait on close().
        const now = Date.now();
        if (seen === 'end') ledger.markEnded();
        if (ledger.ended || now > giveUpAt) {
          report();
          client.close();
        }
      });
      client.on('error', (error) => {
        streamErrors.add(1, { role });
        console.error(`${role} subscriber ${subscriber}: ${error.error()}`);
      });
    },
  );
  check(response, { 'stream answered 200': (r) => r.status === 200 }, { role });
  report();
}

/** @param {SetupData} data */
export function fastSubscriber(data) {
  subscribe(data, 'fast');
}

/** @param {SetupData} data */
export function slowSubscriber(data) {
  subscribe(data, 'slow');
}

/**
 * Marks the run failed (exit code 110) without stopping it; k6 releases before
 * exec.test.fail() existed fail through the verdict thresholds alone.
 * @param {string} message
 */
function failTest(message) {
  console.error(message);
  if (typeof exec.test.fail === 'function') exec.test.fail(message);
}

/**
 * Reads the metrics once the service has counted every closed stream (the gauge of open
 * connections back where it was), or after a few seconds.
 * @param {SetupData} data
 * @param {import('./prometheus.js').SseSnapshot} before
 */
function settledMetrics(data, before) {
  // Prometheus: a scrape a moment after the last stream closed, which the service counts at once.
  const window = { runStartMs: data.startedAtMs, notBeforeMs: Date.now() + 1000 };
  let after = readMetrics(window);
  for (let attempt = 0; attempt < 20 && after.connections > before.connections; attempt++) {
    sleep(0.25);
    window.notBeforeMs = Date.now();
    after = readMetrics(window);
  }
  return after;
}

/**
 * @param {SetupData} data
 * @param {RoomLedger} room
 */
function judge(data, room) {
  if (data.before === null) throw new Error('no baseline: only the runner that took it judges');
  const delta = snapshotDelta(data.before, settledMetrics(data, data.before));
  const { verdicts, numbers } = judgeRun(plan, room.facts(), delta);
  for (const verdict of verdicts) {
    verdictGauges[verdict.rule]?.add(verdict.ok ? 1 : 0);
    if (verdict.ok) console.log(`ok   ${verdict.rule}: ${verdict.detail}`);
    else console.error(`FAIL ${verdict.rule}: ${verdict.detail}`);
  }
  for (const [key, value] of Object.entries(numbers)) numberGauges[key]?.add(value);
  const failed = verdicts.filter((verdict) => !verdict.ok).map((verdict) => verdict.rule);
  if (failed.length > 0) failTest(`verdicts failed: ${failed.join(', ')}`);
}

/** How long the judge waits for every subscriber's report, other runners' included. */
const REPORTS_WAIT_MS = 90_000;

/**
 * Replays the room from the start marker: every update, the end marker, every hello and
 * report, in stream order, other runners' too. Once every subscriber of the plan (all
 * runners together) has reported, or after REPORTS_WAIT_MS, it publishes a fence and reads
 * on up to it; then judges, once the replay's own connection is closed (it counts in the
 * connection gauges). A later runner of the k6-operator leaves all this to the first.
 * @param {SetupData} data
 */
export function teardown(data) {
  if (!data.judge) {
    console.log(`run ${data.run}: this runner's subscribers reported into the room; the first runner judges the run`);
    return;
  }
  try {
    const room = new RoomLedger(data.run);
    const expectedReports = plan.fastSubscribers + plan.slowSubscribers;
    const fenceAfter = Date.now() + REPORTS_WAIT_MS;
    const giveUpAt = fenceAfter + 60_000;
    let fenced = false;
    let closing = false;
    const response = sse.open(
      streamUrl(plan, data.startId),
      { headers: bearer(subscriberToken(plan, 0)), tags: { role: 'teardown' } },
      (client) => {
        client.on('event', (event) => {
          const done = room.observe(event);
          // Heartbeats call this too, so the wait ends on time even when nothing comes.
          if (!fenced && (room.reports.length >= expectedReports || Date.now() > fenceAfter)) {
            fenced = true;
            const fenceId = publish(roomEvent(plan, data.run, 'fence'));
            // Without a fence the replay never completes: room_replayed says so.
            if (fenceId === undefined) closing = true;
            else room.fenceAt(fenceId);
          }
          if (closing || done || room.resyncs > 0 || Date.now() > giveUpAt) {
            closing = true;
            client.close();
          }
        });
        client.on('error', (error) => console.error(`teardown replay: ${error.error()}`));
      },
    );
    check(response, { 'replay answered 200': (r) => r.status === 200 });
    judge(data, room);
  } catch (error) {
    // Nothing judged: every verdict gauge says so, and the run fails.
    for (const rule of VERDICT_RULES) verdictGauges[rule]?.add(0);
    failTest(`teardown could not judge the run: ${String(error)}`);
  }
}

/** @param {import('./summary.js').K6SummaryData} data */
export function handleSummary(data) {
  const summary = summaryFromK6(data);
  const text = summaryText(summary);
  return {
    stdout: text,
    'loadtest-summary.txt': text,
    'loadtest-summary.json': JSON.stringify({ summary, k6: data }, null, 2),
  };
}
