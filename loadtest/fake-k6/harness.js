// Runs loadtest/sse.js through its whole life (setup, producers, end marker, subscribers,
// teardown, handleSummary) against stand-ins for k6's modules and an in-memory service,
// in any JavaScript engine: Node (hooks.js maps the k6 imports) and sobek, the engine k6
// embeds (loadtest/engine). It proves the script's wiring, not the service: the service
// here is a model that drops what the chosen `behaviour` says.
//
// Behaviours: 'counted' drops events for slow subscribers, tells them (resync) and counts
// the drops, as the real service does; 'silent' also loses one event of a fast subscriber
// without telling or counting; 'none' drops nothing, even for slow subscribers.

const BASE_MS = 1795766000000;

class FakeService {
  /** @param {{ behaviour: string, slowVus: Set<number>, exec: any }} options */
  constructor(options) {
    this.behaviour = options.behaviour;
    this.slowVus = options.slowVus;
    this.exec = options.exec;
    this.entries = [];
    this.dropped = 0;
    this.sent = 0;
    this.open = 0;
    this.opened = 0;
  }

  get(url) {
    if (!url.endsWith('/metrics')) return { status: 404, body: 'not found' };
    const body = [
      '# TYPE sse_events_dropped_total counter',
      `sse_events_dropped_total{reason="queue_full"} ${this.dropped}`,
      'sse_events_dropped_total{reason="shutdown"} 0',
      `sse_events_sent_total ${this.sent}`,
      `sse_connections ${this.open}`,
      `sse_connections_opened_total ${this.opened}`,
      '',
    ].join('\n');
    return { status: 200, body };
  }

  post(url, body, headers) {
    if (!url.endsWith('/api/realtime/events')) return { status: 404, body: '{}' };
    if (!String(headers.Authorization || '').startsWith('Bearer '))
      return { status: 401, body: '{"error":"unauthorized"}' };
    const input = JSON.parse(body);
    const id = `${BASE_MS + this.entries.length}-0`;
    this.entries.push({
      id,
      event: {
        matchId: input.matchId,
        action: input.action,
        data: input.data,
        timestamp: new Date(BASE_MS).toISOString(),
      },
    });
    return { status: 202, body: JSON.stringify({ id }) };
  }

  /**
   * The messages a stream gets, one per next() call: retry hint, then the room after
   * lastEventId, with heartbeats, including what is published while the stream is read
   * (teardown publishes its fence mid-replay); undefined once it has caught up.
   */
  stream(url, headers) {
    if (!String(headers.Authorization || '').startsWith('Bearer ')) return { status: 401, next() {}, close() {} };
    const query = url.slice(url.indexOf('?') + 1).split('&');
    const param = (name) =>
      decodeURIComponent((query.find((pair) => pair.startsWith(`${name}=`)) || '').slice(name.length + 1));
    const room = param('matchId');
    const after = Number(param('lastEventId').split('-')[0]);
    const slow = this.slowVus.has(this.exec.vu.idInTest);
    const vu = this.exec.vu.idInTest;
    const pending = [{ id: '', name: '', data: '', comment: '' }];
    let position = 0;
    let updates = 0;
    let gap = false;
    const next = () => {
      while (pending.length === 0 && position < this.entries.length) {
        const entry = this.entries[position++];
        if (Number(entry.id.split('-')[0]) <= after || entry.event.matchId !== room) continue;
        const isUpdate = entry.event.data && entry.event.data.kind === 'update';
        if (isUpdate) updates++;
        // Slow: the 3rd to 7th updates overflow its queue. Silent: a fast subscriber's 4th vanishes.
        if (isUpdate && slow && this.behaviour !== 'none' && updates >= 3 && updates <= 7) {
          this.dropped++;
          gap = true;
          continue;
        }
        if (isUpdate && !slow && this.behaviour === 'silent' && updates === 4 && vu === 1) continue;
        if (gap) {
          pending.push({ id: '', name: 'resync', data: '{"action":"resync","reason":"events_dropped"}', comment: '' });
          gap = false;
        }
        pending.push({ id: entry.id, name: entry.event.action, data: JSON.stringify(entry.event), comment: '' });
        pending.push({ id: '', name: '', data: '', comment: 'heartbeat' });
        this.sent++;
      }
      return pending.shift();
    };
    this.open++;
    this.opened++;
    return {
      status: 200,
      next,
      close: () => {
        this.open--;
      },
    };
  }
}

/** k6's end-of-test view of a recorded metric. */
function summarise(metric) {
  const values = metric.samples.map((sample) => sample.value);
  if (metric.type === 'counter') return { count: values.reduce((a, b) => a + b, 0), rate: 0 };
  if (metric.type === 'gauge')
    return { value: values[values.length - 1], min: Math.min(...values), max: Math.max(...values) };
  const sorted = values.slice().sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * q) - 1)];
  return {
    avg: values.reduce((a, b) => a + b, 0) / values.length,
    min: sorted[0],
    med: at(0.5),
    max: sorted[sorted.length - 1],
    'p(90)': at(0.9),
    'p(95)': at(0.95),
    count: values.length,
  };
}

/**
 * Drives a run. With `runners: 2` it plays the k6-operator's two runners in turn, each
 * with its execution segment: both run setup() (the second joins the first's run), the
 * producers and subscribers are shared out between them, and both run teardown().
 * @param {any} script the module namespace of loadtest/sse.js
 * @param {{ behaviour: string, runners?: number }} options
 */
export function drive(script, options) {
  const k6 = globalThis.fakeK6;
  const exec = k6.exec;
  const scenarios = script.options.scenarios;
  const fast = scenarios.fast_subscribers.vus;
  const slow = scenarios.slow_subscribers ? scenarios.slow_subscribers.vus : 0;
  const slowVus = new Set();
  for (let vu = fast + 1; vu <= fast + slow; vu++) slowVus.add(vu);
  const service = new FakeService({ behaviour: options.behaviour, slowVus, exec });
  k6.service = service;

  const runners = options.runners || 1;
  const segments = runners === 1 ? [undefined] : ['0:1/2', '1/2:1'];
  const as = (runner) => (exec.test.options.executionSegment = segments[runner]);
  // k6 hands setup data over as JSON, to each runner its own.
  const data = segments.map((_segment, runner) => {
    as(runner);
    return JSON.parse(JSON.stringify(script.setup()));
  });
  const updates = Math.round(scenarios.producers.rate * Number(String(scenarios.producers.duration).replace('s', '')));
  for (let iteration = 0; iteration < updates; iteration++) {
    as(iteration % runners);
    exec.scenario.iterationInTest = iteration;
    script.produce(data[iteration % runners]);
  }
  as(0);
  script.endRun(data[0]);
  exec.scenario.startTime = Date.now();
  for (let vu = 1; vu <= fast + slow; vu++) {
    as(vu % runners);
    exec.vu.idInTest = vu;
    if (slowVus.has(vu)) script.slowSubscriber(data[vu % runners]);
    else script.fastSubscriber(data[vu % runners]);
  }
  exec.vu.idInTest = 0;
  for (let runner = runners - 1; runner >= 0; runner--) {
    as(runner);
    script.teardown(data[runner]);
  }

  const metrics = {};
  for (const [name, metric] of Object.entries(k6.metrics)) {
    if (metric.samples.length > 0) metrics[name] = { type: metric.type, values: summarise(metric) };
  }
  // Only the first runner judged, so the verdict gauges are its own.
  const summary = script.handleSummary({ metrics, setup_data: data[0] });
  const later = data.slice(1).map((setupData) => script.handleSummary({ metrics: {}, setup_data: setupData }).stdout);
  const verdicts = {};
  for (const [name, metric] of Object.entries(metrics))
    if (name.startsWith('loadtest_verdict_')) verdicts[name.slice(17)] = metric.values.value;
  return {
    thresholds: Object.keys(script.options.thresholds),
    scenarios: Object.keys(scenarios),
    published: service.entries.length,
    dropped: service.dropped,
    verdicts,
    failures: k6.failures,
    checks: k6.checks.filter((check) => !check.ok).map((check) => check.name),
    sleeps: k6.sleeps,
    stdout: summary.stdout,
    runs: data.map((setupData) => setupData.run),
    laterRunners: later,
    files: Object.keys(summary).filter((key) => key !== 'stdout'),
  };
}
