// The run's summary: the verdicts and the numbers behind them, as JSON and as text a
// person reads at the end of `k6 run` or `npm run loadtest:node`. k6 carries teardown's
// verdicts to handleSummary as gauges (VUs share nothing else), so this module also names
// those gauges and reads them back.
import { VERDICT_RULES } from './verdict.js';

/**
 * @typedef {import('./verdict.js').Verdict} Verdict
 * @typedef {import('./verdict.js').RunNumbers} RunNumbers
 * @typedef {{ avg: number, p95: number, max: number, count: number }} Timing
 * @typedef {{
 *   runner: 'k6' | 'node',
 *   run: string | null,
 *   verdicts: Verdict[],
 *   numbers: RunNumbers | null,
 *   timeToFirstEventMs: Timing | null,
 *   judgedBy?: 'first runner',
 * }} RunSummary judgedBy: a later k6-operator runner's share, judged by the first runner
 * @typedef {{ type?: string, values: Record<string, number> }} K6MetricSummary
 * @typedef {{ metrics: Record<string, K6MetricSummary | undefined>, setup_data?: unknown }} K6SummaryData
 */

/** Gauge carrying one rule's verdict from teardown: 1 passed, 0 failed. */
export function verdictMetric(/** @type {string} */ rule) {
  return `loadtest_verdict_${rule}`;
}

/** Gauges carrying teardown's numbers. */
export const NUMBER_METRICS = {
  published: 'loadtest_published',
  fastReports: 'loadtest_fast_reports',
  slowReports: 'loadtest_slow_reports',
  slowMissed: 'loadtest_slow_missed',
  droppedQueueFull: 'loadtest_dropped_queue_full',
  droppedTotal: 'loadtest_dropped_total',
  sent: 'loadtest_sent',
  opened: 'loadtest_connections_opened',
  connectionsDelta: 'loadtest_connections_delta',
};

/** The Trend of the time from opening a stream to its first event. */
export const TIME_TO_FIRST_EVENT = 'loadtest_time_to_first_event';

/**
 * Rebuilds the run summary from k6's end-of-test data.
 * @param {K6SummaryData} data
 * @returns {RunSummary}
 */
export function summaryFromK6(data) {
  const setup = data.setup_data;
  const ttfe = data.metrics[TIME_TO_FIRST_EVENT]?.values;
  const timeToFirstEventMs =
    ttfe === undefined
      ? null
      : { avg: ttfe.avg ?? 0, p95: ttfe['p(95)'] ?? 0, max: ttfe.max ?? 0, count: ttfe.count ?? 0 };
  const run =
    setup !== null && typeof setup === 'object' && 'run' in setup && typeof setup.run === 'string' ? setup.run : null;
  if (setup !== null && typeof setup === 'object' && 'judge' in setup && setup.judge === false) {
    return { runner: 'k6', run, verdicts: [], numbers: null, timeToFirstEventMs, judgedBy: 'first runner' };
  }
  /** @type {Verdict[]} */
  const verdicts = VERDICT_RULES.map((rule) => {
    const value = data.metrics[verdictMetric(rule)]?.values.value;
    return {
      rule,
      ok: value === 1,
      detail:
        value === undefined
          ? 'not judged: teardown did not finish (see its log)'
          : value === 1
            ? 'passed'
            : 'failed (details in the teardown log)',
    };
  });
  const published = data.metrics[NUMBER_METRICS.published]?.values.value;
  /** @type {RunNumbers | null} */
  let numbers = null;
  if (published !== undefined) {
    /** @param {keyof typeof NUMBER_METRICS} key */
    const read = (key) => data.metrics[NUMBER_METRICS[key]]?.values.value ?? 0;
    numbers = {
      published: read('published'),
      fastReports: read('fastReports'),
      slowReports: read('slowReports'),
      slowMissed: read('slowMissed'),
      droppedQueueFull: read('droppedQueueFull'),
      droppedTotal: read('droppedTotal'),
      sent: read('sent'),
      opened: read('opened'),
      connectionsDelta: read('connectionsDelta'),
    };
  }
  return { runner: 'k6', run, verdicts, numbers, timeToFirstEventMs };
}

/**
 * Milliseconds of time to first event over the subscribers that saw one.
 * @param {number[]} samples
 * @returns {Timing | null}
 */
export function timingOf(samples) {
  if (samples.length === 0) return null;
  const sorted = samples.slice().sort((a, b) => a - b);
  const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] ?? 0;
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return { avg: total / sorted.length, p95, max: sorted[sorted.length - 1] ?? 0, count: sorted.length };
}

/** @param {RunSummary} summary */
export function passed(summary) {
  return summary.verdicts.length > 0 && summary.verdicts.every((verdict) => verdict.ok);
}

/**
 * The summary as lines a person reads.
 * @param {RunSummary} summary
 */
export function summaryText(summary) {
  const outcome =
    summary.judgedBy === undefined
      ? passed(summary)
        ? 'PASSED'
        : 'FAILED'
      : `this runner's share; the ${summary.judgedBy} judges the run (see its log)`;
  const lines = [
    `SSE load test (${summary.runner})${summary.run === null ? '' : ` run ${summary.run}`}: ${outcome}`,
    '',
  ];
  for (const verdict of summary.verdicts)
    lines.push(`  ${verdict.ok ? 'ok  ' : 'FAIL'} ${verdict.rule}: ${verdict.detail}`);
  const n = summary.numbers;
  if (n !== null) {
    lines.push(
      '',
      `  published updates        ${n.published}`,
      `  subscribers reporting    ${n.fastReports} fast, ${n.slowReports} slow`,
      `  dropped (queue_full)     ${n.droppedQueueFull}   all reasons ${n.droppedTotal}`,
      `  missed by slow           ${n.slowMissed}`,
      `  events sent (service)    ${n.sent}`,
      `  connections opened       ${n.opened}   still open vs before ${n.connectionsDelta}`,
    );
  }
  const t = summary.timeToFirstEventMs;
  if (t !== null) {
    lines.push(
      `  time to first event      avg ${t.avg.toFixed(0)} ms, p95 ${t.p95.toFixed(0)} ms, max ${t.max.toFixed(0)} ms`,
    );
  }
  return `${lines.join('\n')}\n`;
}
