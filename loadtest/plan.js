// The run's settings: every knob the load test reads from the environment (k6's __ENV,
// Node's process.env), its default and meaning, and the Plan made from them, checked once
// so a wrong knob fails before any traffic. Like every module beside sse.js it is plain
// JavaScript without Node or k6 APIs, keeping to what k6's JavaScript runtime supports (no
// matchAll, no private fields), so k6 and the Node runner (run.ts) share it.

/** @typedef {'fast' | 'slow'} Role fast subscribers read everything; slow ones stop reading once, for SLOW_PAUSE */

/**
 * @typedef {{
 *   baseUrl: string,
 *   metricsUrls: string[],
 *   prometheusUrl: string,
 *   prometheusSelector: string,
 *   subscriberTokens: string[],
 *   producerToken: string,
 *   matchId: string,
 *   fastSubscribers: number,
 *   slowSubscribers: number,
 *   rate: number,
 *   durationSeconds: number,
 *   payloadBytes: number,
 *   slowPauseSeconds: number,
 *   settleSeconds: number,
 *   ttfeP95Ms: number,
 * }} Plan
 */

/** Every knob, its default and meaning; README.md lists the same (a test keeps them equal). */
export const KNOBS = {
  BASE_URL: { default: 'http://127.0.0.1:4001', meaning: 'the service (public port)' },
  METRICS_URL: {
    default: 'http://127.0.0.1:9464/metrics',
    meaning: 'metrics endpoint; comma-separated to sum several pods (ignored when PROMETHEUS_URL is set)',
  },
  PROMETHEUS_URL: {
    default: '',
    meaning: 'Prometheus HTTP API that scrapes every service pod; when set, drops are counted from it (all replicas)',
  },
  PROMETHEUS_SELECTOR: {
    default: 'job="trayb-realtime"',
    meaning: "label matchers of the service's series in Prometheus (add namespace=... when several stacks share it)",
  },
  TOKEN: {
    default: '',
    meaning: 'bearer token of the subscribers (admin, or a user whose rooms include MATCH_ID); required',
  },
  TOKENS: {
    default: '',
    meaning:
      'comma-separated subscriber tokens used round-robin (the service admits SSE_MAX_CONNECT_PER_MINUTE connects per identity)',
  },
  PRODUCER_TOKEN: { default: 'TOKEN', meaning: 'bearer token for publishing (producer or admin)' },
  MATCH_ID: { default: 'loadtest', meaning: 'the room the run publishes to and subscribes on' },
  VUS: { default: '50', meaning: 'fast subscribers (read everything at once)' },
  SLOW_VUS: { default: '2', meaning: 'slow subscribers (stop reading for SLOW_PAUSE once); 0 for none' },
  RATE: { default: '50', meaning: 'published events per second' },
  DURATION: { default: '60s', meaning: 'how long producers publish' },
  PAYLOAD_BYTES: {
    default: '16384',
    meaning:
      'padding per event; slow subscribers overflow once RATE x PAYLOAD_BYTES x SLOW_PAUSE exceeds the buffers (README)',
  },
  SLOW_PAUSE: { default: '30s', meaning: 'how long a slow subscriber stops reading; shorter than DURATION' },
  SETTLE: { default: '5s', meaning: 'wait after the last publish before the end marker' },
  TTFE_P95_MS: { default: '2000', meaning: 'threshold: p95 time from opening a stream to its first event' },
};

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/**
 * Seconds in a k6-style duration: "90", "45s", "1m30s", "500ms", "1h".
 * @param {string} text
 * @returns {number}
 */
export function parseDurationSeconds(text) {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(trimmed)) throw new Error(`not a duration: "${text}" (use 45s, 1m30s, 500ms)`);
  /** @type {Record<string, number>} */
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let seconds = 0;
  DURATION_PART.lastIndex = 0;
  for (let part = DURATION_PART.exec(trimmed); part !== null; part = DURATION_PART.exec(trimmed)) {
    seconds += Number(part[1]) * (unit[part[2] ?? 's'] ?? 1);
  }
  return seconds;
}

/**
 * @param {Record<string, string | undefined>} env
 * @param {keyof typeof KNOBS} name
 */
function knob(env, name) {
  const value = env[name];
  return value === undefined || value.trim() === '' ? KNOBS[name].default : value.trim();
}

/**
 * @param {Record<string, string | undefined>} env
 * @param {keyof typeof KNOBS} name
 * @param {number} min
 */
function wholeNumber(env, name, min) {
  const text = knob(env, name);
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be a whole number >= ${min}, got "${text}"`);
  return value;
}

/** @param {string} text */
function list(text) {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * The run's plan from environment variables (k6's __ENV, Node's process.env); throws a
 * message naming the knob when one is missing or wrong.
 * @param {Record<string, string | undefined>} env
 * @returns {Plan}
 */
export function planFrom(env) {
  const tokens = list(knob(env, 'TOKENS'));
  const token = knob(env, 'TOKEN');
  if (token === '' && tokens.length === 0)
    throw new Error('TOKEN is required: a bearer token that may follow MATCH_ID (admin, or a user with that room)');
  const subscriberTokens = tokens.length > 0 ? tokens : [token];
  const producerText = knob(env, 'PRODUCER_TOKEN');
  const producerToken = producerText === 'TOKEN' ? token : producerText;
  if (producerToken === '') throw new Error('PRODUCER_TOKEN is required when TOKEN is not set');
  const rate = Number(knob(env, 'RATE'));
  if (!(rate > 0)) throw new Error(`RATE must be a positive number of events per second, got "${knob(env, 'RATE')}"`);
  const plan = {
    baseUrl: knob(env, 'BASE_URL').replace(/\/+$/, ''),
    metricsUrls: list(knob(env, 'METRICS_URL')),
    prometheusUrl: knob(env, 'PROMETHEUS_URL').replace(/\/+$/, ''),
    prometheusSelector: knob(env, 'PROMETHEUS_SELECTOR'),
    subscriberTokens,
    producerToken,
    matchId: knob(env, 'MATCH_ID'),
    fastSubscribers: wholeNumber(env, 'VUS', 1),
    slowSubscribers: wholeNumber(env, 'SLOW_VUS', 0),
    rate,
    durationSeconds: parseDurationSeconds(knob(env, 'DURATION')),
    payloadBytes: wholeNumber(env, 'PAYLOAD_BYTES', 0),
    slowPauseSeconds: parseDurationSeconds(knob(env, 'SLOW_PAUSE')),
    settleSeconds: parseDurationSeconds(knob(env, 'SETTLE')),
    ttfeP95Ms: wholeNumber(env, 'TTFE_P95_MS', 1),
  };
  if (!/^[A-Za-z0-9][A-Za-z0-9:_.-]*$/.test(plan.matchId))
    throw new Error(`MATCH_ID "${plan.matchId}" is not a valid match id`);
  if (plan.metricsUrls.length === 0 && plan.prometheusUrl === '')
    throw new Error('METRICS_URL or PROMETHEUS_URL is required: the drop counters are read from it');
  if (plan.slowSubscribers > 0 && plan.slowPauseSeconds >= plan.durationSeconds) {
    // A subscriber still paused when the end marker comes would lose the marker itself.
    throw new Error(`SLOW_PAUSE (${plan.slowPauseSeconds}s) must be shorter than DURATION (${plan.durationSeconds}s)`);
  }
  return plan;
}

/**
 * Subscriber n's token: TOKENS round-robin, else TOKEN.
 * @param {Plan} plan
 * @param {number} subscriber
 */
export function subscriberToken(plan, subscriber) {
  return plan.subscriberTokens[subscriber % plan.subscriberTokens.length] ?? '';
}
