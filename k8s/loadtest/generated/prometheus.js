// Generated from loadtest/prometheus.js by `npm run generate`. Do not edit by hand.
// Reads the service's Prometheus text (METRICS_PORT) into the few SSE figures a load test
// judges: drops by reason, events sent, open and opened connections. Plain JavaScript
// without Node or k6 APIs, so k6 (sse.js) and Node (run.ts) share it unchanged; it keeps
// to language features k6's JavaScript runtime has (no matchAll, no private fields).

/**
 * @typedef {{ name: string, labels: Record<string, string>, value: number }} Sample
 * @typedef {{
 *   dropped: Record<string, number>,
 *   droppedTotal: number,
 *   sent: number,
 *   connections: number,
 *   opened: number,
 *   targets: number,
 * }} SseSnapshot
 */

/** The metric names the snapshot reads (service/src/contract/metric-names.ts; a test keeps them equal). */
export const SSE_METRIC_NAMES = {
  dropped: 'sse_events_dropped_total',
  sent: 'sse_events_sent_total',
  connections: 'sse_connections',
  opened: 'sse_connections_opened_total',
};

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** @param {string} raw */
function unescapeLabel(raw) {
  return raw.replace(/\\(.)/g, (_whole, char) => (char === 'n' ? '\n' : char));
}

/** @param {string} raw */
function parseValue(raw) {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  return Number(raw);
}

/**
 * Parses Prometheus text exposition (0.0.4): one sample per non-comment line.
 * @param {string} text
 * @returns {Sample[]}
 */
export function parsePrometheus(text) {
  /** @type {Sample[]} */
  const samples = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(trimmed);
    if (match === null) throw new Error(`not a Prometheus sample line: ${trimmed}`);
    /** @type {Record<string, string>} */
    const labels = {};
    const labelText = match[2] ?? '';
    LABEL.lastIndex = 0;
    for (let label = LABEL.exec(labelText); label !== null; label = LABEL.exec(labelText)) {
      labels[label[1] ?? ''] = unescapeLabel(label[2] ?? '');
    }
    samples.push({ name: match[1] ?? '', labels, value: parseValue(match[3] ?? 'NaN') });
  }
  return samples;
}

/**
 * @param {Sample[]} samples
 * @param {string} name
 */
function sum(samples, name) {
  return samples.filter((sample) => sample.name === name).reduce((total, sample) => total + sample.value, 0);
}

/**
 * The SSE figures of one or more instances (one text per scraped instance), summed: a
 * deployment's drops are the drops of all its pods.
 * @param {string[]} texts
 * @returns {SseSnapshot}
 */
export function sseSnapshot(texts) {
  /** @type {Sample[]} */
  const samples = [];
  for (const text of texts) samples.push(...parsePrometheus(text));
  /** @type {Record<string, number>} */
  const dropped = {};
  for (const sample of samples) {
    if (sample.name !== SSE_METRIC_NAMES.dropped) continue;
    const reason = sample.labels.reason ?? '';
    dropped[reason] = (dropped[reason] ?? 0) + sample.value;
  }
  return {
    dropped,
    droppedTotal: sum(samples, SSE_METRIC_NAMES.dropped),
    sent: sum(samples, SSE_METRIC_NAMES.sent),
    connections: sum(samples, SSE_METRIC_NAMES.connections),
    opened: sum(samples, SSE_METRIC_NAMES.opened),
    targets: texts.length,
  };
}

/**
 * What changed between two snapshots of the same targets.
 * @param {SseSnapshot} before
 * @param {SseSnapshot} after
 * @returns {SseSnapshot}
 */
export function snapshotDelta(before, after) {
  /** @type {Record<string, number>} */
  const dropped = {};
  for (const reason of new Set([...Object.keys(before.dropped), ...Object.keys(after.dropped)])) {
    dropped[reason] = (after.dropped[reason] ?? 0) - (before.dropped[reason] ?? 0);
  }
  return {
    dropped,
    droppedTotal: after.droppedTotal - before.droppedTotal,
    sent: after.sent - before.sent,
    connections: after.connections - before.connections,
    opened: after.opened - before.opened,
    targets: after.targets,
  };
}
