// Generated from loadtest/prometheus-api.js by `npm run generate`. Do not edit by hand.
// The service's SSE figures from the Prometheus HTTP API (PROMETHEUS_URL): the in-cluster
// way to judge the whole service, every replica, in one place. The dashboards read the same
// series. Scraping METRICS_URL instead sees only the pods listed, and a pod that goes away
// during the run takes its counters with it; Prometheus keeps every pod's series, so the
// snapshot after the run still holds the pods that left, and one URL covers however many
// replicas the autoscaler ran. Plain JavaScript without Node or k6 APIs: sse.js (k6 http)
// and run.ts (fetch) make the requests, this module says which and reads the answers.
//
// Exact, not extrapolated: increase() over the run's window would estimate the counters'
// growth to the window's edges and answer fractions, while a drop verdict compares whole
// events. So the snapshot before the run is each series' value at the run's start, the one
// after is each series' last value over the run (last_over_time), once every pod has been
// scraped after the moment that matters; snapshotDelta() subtracts the sums (in all, per
// reason and per pod), and a pod that appeared during the run starts from zero. A pod whose
// container restarted mid-run reset its counters: no snapshot can account for that.
import { SSE_METRIC_NAMES, snapshotOf } from './prometheus.js';

/**
 * @typedef {import('./prometheus.js').InstanceSamples} InstanceSamples
 * @typedef {import('./prometheus.js').Sample} Sample
 * @typedef {import('./prometheus.js').SseSnapshot} SseSnapshot
 * @typedef {{ metric: Record<string, string>, value: [number, string] }} VectorSample
 * @typedef {{ status?: string, error?: string, data?: { resultType?: string, result?: VectorSample[] } }} QueryAnswer
 */

/** Labels that name the pod a series came from, in order of preference (the ServiceMonitor sets `pod`). */
const INSTANCE_LABELS = ['pod', 'instance'];

/**
 * The URL of an instant query evaluated at `atMs`.
 * @param {string} prometheusUrl
 * @param {string} query
 * @param {number} atMs
 */
export function instantQueryUrl(prometheusUrl, query, atMs) {
  const base = prometheusUrl.replace(/\/+$/, '');
  return `${base}/api/v1/query?query=${encodeURIComponent(query)}&time=${(atMs / 1000).toFixed(3)}`;
}

/**
 * The queries of one snapshot, one per metric the snapshot reads (a range function drops
 * the metric name, so one query per name keeps them apart). Before the run: each series'
 * value at that moment; after it (`sinceMs` given): each series' last value since the
 * run's start, including the pods that went away in the meantime.
 * @param {string} selector label matchers of the service's series, e.g. job="trayb-realtime"
 * @param {number} atMs
 * @param {number} [sinceMs]
 * @returns {{ name: string, query: string }[]}
 */
export function snapshotQueries(selector, atMs, sinceMs) {
  const windowSeconds = sinceMs === undefined ? 0 : Math.max(1, Math.ceil((atMs - sinceMs) / 1000));
  return Object.values(SSE_METRIC_NAMES).map((name) => ({
    name,
    query: sinceMs === undefined ? `${name}{${selector}}` : `last_over_time(${name}{${selector}}[${windowSeconds}s])`,
  }));
}

/**
 * The oldest of the newest samples among the service's live series: once it is past a
 * moment, every pod has been scraped since then.
 * @param {string} selector
 */
export function freshnessQuery(selector) {
  return `min(timestamp(${SSE_METRIC_NAMES.connections}{${selector}}))`;
}

/**
 * The samples of an instant query's answer, under the metric name the query asked for.
 * @param {QueryAnswer} answer
 * @param {string} name
 * @returns {(Sample & { instance: string })[]}
 */
export function vectorSamples(answer, name) {
  if (answer.status !== 'success' || answer.data?.resultType !== 'vector')
    throw new Error(`Prometheus answered ${answer.status ?? 'nothing'}: ${answer.error ?? 'not an instant vector'}`);
  return (answer.data.result ?? []).map((sample) => {
    const instance = INSTANCE_LABELS.map((label) => sample.metric[label]).find((value) => value !== undefined);
    return { name, labels: sample.metric, value: Number(sample.value[1]), instance: instance ?? 'unlabelled' };
  });
}

/**
 * One snapshot from the answers to snapshotQueries(), grouped by pod.
 * @param {{ name: string, answer: QueryAnswer }[]} answers
 * @returns {SseSnapshot}
 */
export function snapshotFromAnswers(answers) {
  /** @type {Record<string, Sample[]>} */
  const byInstance = {};
  for (const { name, answer } of answers) {
    for (const sample of vectorSamples(answer, name)) {
      (byInstance[sample.instance] = byInstance[sample.instance] ?? []).push(sample);
    }
  }
  return snapshotOf(Object.keys(byInstance).map((instance) => ({ instance, samples: byInstance[instance] ?? [] })));
}

/**
 * Whether every live series of the service was scraped at or after `sinceMs`, from the
 * answer to freshnessQuery(); throws when no series matches (a wrong selector would
 * otherwise wait forever).
 * @param {QueryAnswer} answer
 * @param {number} sinceMs
 */
export function scrapedSince(answer, sinceMs) {
  const samples = vectorSamples(answer, 'freshness');
  const oldest = samples[0];
  if (oldest === undefined) throw new Error('no series of the service in Prometheus: check PROMETHEUS_SELECTOR');
  return oldest.value * 1000 >= sinceMs;
}
