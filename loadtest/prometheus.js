// Reads the service's SSE figures into the few numbers a load test judges: drops by reason
// (in all and per instance), events sent, open and opened connections. The samples come
// either from scraping the pods' Prometheus text (METRICS_PORT, METRICS_URL) or from the
// Prometheus HTTP API (prometheus-api.js); both end in snapshotOf(). Plain JavaScript
// without Node or k6 APIs, so k6 (sse.js) and Node (run.ts) share it unchanged; it keeps
// to language features k6's JavaScript runtime has (no matchAll, no private fields).

/**
 * @typedef {{ name: string, labels: Record<string, string>, value: number }} Sample
 * @typedef {{ instance: string, samples: Sample[] }} InstanceSamples the samples of one
 *   service instance (a pod), under a name that tells it from the others
 * @typedef {{
 *   dropped: Record<string, number>,
 *   droppedTotal: number,
 *   droppedByInstance: Record<string, number>,
 *   sent: number,
 *   connections: number,
 *   opened: number,
 *   targets: number,
 * }} SseSnapshot droppedByInstance: every reason, per instance; targets: instances read
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
 * The SSE figures of one or more instances, summed: a deployment's drops are the drops of
 * all its pods. Each instance's drops are kept apart too, to show how they spread.
 * @param {InstanceSamples[]} instances
 * @returns {SseSnapshot}
 */
export function snapshotOf(instances) {
  /** @type {Sample[]} */
  const samples = [];
  /** @type {Record<string, number>} */
  const droppedByInstance = {};
  for (const instance of instances) {
    samples.push(...instance.samples);
    droppedByInstance[instance.instance] =
      (droppedByInstance[instance.instance] ?? 0) + sum(instance.samples, SSE_METRIC_NAMES.dropped);
  }
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
    droppedByInstance,
    sent: sum(samples, SSE_METRIC_NAMES.sent),
    connections: sum(samples, SSE_METRIC_NAMES.connections),
    opened: sum(samples, SSE_METRIC_NAMES.opened),
    targets: Object.keys(droppedByInstance).length,
  };
}

/**
 * The figures of the pods whose metrics endpoints were scraped (one text per endpoint, in
 * the order of `endpoints`, which name the instances).
 * @param {string[]} texts
 * @param {string[]} [endpoints]
 * @returns {SseSnapshot}
 */
export function sseSnapshot(texts, endpoints = texts.map((_text, index) => `target ${index + 1}`)) {
  return snapshotOf(
    texts.map((text, index) => ({
      instance: endpoints[index] ?? `target ${index + 1}`,
      samples: parsePrometheus(text),
    })),
  );
}

/**
 * What changed between two snapshots of the same service (from Prometheus, the one after
 * the run also holds the pods that left during it).
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
  /** @type {Record<string, number>} */
  const droppedByInstance = {};
  // An instance that appeared during the run started from nothing.
  for (const instance of Object.keys(after.droppedByInstance)) {
    droppedByInstance[instance] = (after.droppedByInstance[instance] ?? 0) - (before.droppedByInstance[instance] ?? 0);
  }
  return {
    dropped,
    droppedTotal: after.droppedTotal - before.droppedTotal,
    droppedByInstance,
    sent: after.sent - before.sent,
    connections: after.connections - before.connections,
    opened: after.opened - before.opened,
    targets: after.targets,
  };
}
