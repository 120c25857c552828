// Generated from loadtest/scenario.js by `npm run generate`. Do not edit by hand.
// The load test's scenario: who subscribes, what is published, and how a run is judged.
// k6 (loadtest/sse.js) and the Node runner (loadtest/run.ts) are thin shells around it, so
// the logic CI runs is the logic operators run. Plain JavaScript without Node or k6 APIs,
// keeping to what k6's JavaScript runtime supports (no matchAll, no private fields).
//
// The room is the ledger. k6 virtual users share no memory (and under the k6-operator not
// even a process), so everything a verdict needs travels through the service under test,
// in one room (MATCH_ID):
//   1. setup publishes a `start` marker (id S); every subscriber says `hello`, then streams
//      the room resuming after S, so each one is owed exactly the events after S, however
//      late it connected;
//   2. producers publish `update` events (a sequence number and PAYLOAD_BYTES of padding);
//      slow subscribers stop reading once, for SLOW_PAUSE, long enough for the service's
//      queue for them to overflow;
//   3. the run ends DURATION + SETTLE after the start; an `end` marker published then lets
//      subscribers close at once (without it they close at the first heartbeat after);
//   4. each subscriber publishes a `report`: how many updates it got, a digest of their ids,
//      resyncs, order;
//   5. teardown publishes a `fence` (id F) and replays the room from S to F: the
//      authoritative list of published ids, every hello and every report; with the metrics
//      read before and after, judgeRun() (verdict.js) decides.
import { IdDigest, compareStreamIds } from './ids.js';

/** @typedef {'fast' | 'slow'} Role */

/**
 * One SSE message as a client library hands it over (xk6-sse's event, eventsource-parser's
 * message): heartbeats and retry hints arrive without id, name or data.
 * @typedef {{ id?: string | undefined, name?: string | undefined, data?: string | undefined }} StreamMessage
 */

/**
 * @typedef {{
 *   baseUrl: string,
 *   metricsUrls: string[],
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

/**
 * What a subscriber tells teardown about its stream.
 * @typedef {{
 *   role: Role, subscriber: number, received: number, digest: string, resyncs: number,
 *   outOfOrder: number, ended: boolean, firstEventMs: number | null,
 *   eventsReceived: number, lastEventId: string | null,
 * }} SubscriberReport
 * received and digest: the updates; eventsReceived: every event of the run (updates,
 * markers, hellos, reports) up to lastEventId, which is what the service owed it: drops
 * are counted per event, whatever its kind.
 */

/** Every knob, its default and meaning; README.md lists the same (a test keeps them equal). */
export const KNOBS = {
  BASE_URL: { default: 'http://127.0.0.1:4001', meaning: 'the service (public port)' },
  METRICS_URL: { default: 'http://127.0.0.1:9464/metrics', meaning: 'metrics endpoint; comma-separated to sum several pods' },
  TOKEN: { default: '', meaning: 'bearer token of the subscribers (admin, or a user whose rooms include MATCH_ID); required' },
  TOKENS: { default: '', meaning: 'comma-separated subscriber tokens used round-robin (the service admits SSE_MAX_CONNECT_PER_MINUTE connects per identity)' },
  PRODUCER_TOKEN: { default: 'TOKEN', meaning: 'bearer token for publishing (producer or admin)' },
  MATCH_ID: { default: 'loadtest', meaning: 'the room the run publishes to and subscribes on' },
  VUS: { default: '50', meaning: 'fast subscribers (read everything at once)' },
  SLOW_VUS: { default: '2', meaning: 'slow subscribers (stop reading for SLOW_PAUSE once); 0 for none' },
  RATE: { default: '50', meaning: 'published events per second' },
  DURATION: { default: '60s', meaning: 'how long producers publish' },
  PAYLOAD_BYTES: { default: '16384', meaning: 'padding per event; slow subscribers overflow once RATE x PAYLOAD_BYTES x SLOW_PAUSE exceeds the buffers (README)' },
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
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number >= ${min}, got "${text}"`);
  return value;
}

/** @param {string} text */
function list(text) {
  return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
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
  if (token === '' && tokens.length === 0) throw new Error('TOKEN is required: a bearer token that may follow MATCH_ID (admin, or a user with that room)');
  const subscriberTokens = tokens.length > 0 ? tokens : [token];
  const producerText = knob(env, 'PRODUCER_TOKEN');
  const producerToken = producerText === 'TOKEN' ? token : producerText;
  if (producerToken === '') throw new Error('PRODUCER_TOKEN is required when TOKEN is not set');
  const rate = Number(knob(env, 'RATE'));
  if (!(rate > 0)) throw new Error(`RATE must be a positive number of events per second, got "${knob(env, 'RATE')}"`);
  const plan = {
    baseUrl: knob(env, 'BASE_URL').replace(/\/+$/, ''),
    metricsUrls: list(knob(env, 'METRICS_URL')),
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
  if (!/^[A-Za-z0-9][A-Za-z0-9:_.-]*$/.test(plan.matchId)) throw new Error(`MATCH_ID "${plan.matchId}" is not a valid match id`);
  if (plan.metricsUrls.length === 0) throw new Error('METRICS_URL is required: the drop counters are read from it');
  if (plan.slowSubscribers > 0 && plan.slowPauseSeconds >= plan.durationSeconds) {
    // A subscriber still paused when the end marker comes would lose the marker itself.
    throw new Error(`SLOW_PAUSE (${plan.slowPauseSeconds}s) must be shorter than DURATION (${plan.durationSeconds}s)`);
  }
  return plan;
}

/** A run id that tells this run's events from any other traffic in the room. */
export function newRunId(nowMs = Date.now(), random = Math.random()) {
  return `lt-${nowMs.toString(36)}-${Math.floor(random * 1679616).toString(36)}`;
}

/**
 * The stream of the run's room, resuming after `afterId`.
 * @param {Plan} plan
 * @param {string} afterId
 */
export function streamUrl(plan, afterId) {
  return `${plan.baseUrl}/api/realtime/stream?matchId=${encodeURIComponent(plan.matchId)}&lastEventId=${encodeURIComponent(afterId)}`;
}

/** @param {Plan} plan */
export function publishUrl(plan) {
  return `${plan.baseUrl}/api/realtime/events`;
}

/**
 * Subscriber n's token: TOKENS round-robin, else TOKEN.
 * @param {Plan} plan
 * @param {number} subscriber
 */
export function subscriberToken(plan, subscriber) {
  return plan.subscriberTokens[subscriber % plan.subscriberTokens.length] ?? '';
}

/**
 * A publish body for the run's room.
 * @param {Plan} plan
 * @param {string} run
 * @param {string} kind
 * @param {Record<string, unknown>} [fields]
 */
export function roomEvent(plan, run, kind, fields = {}) {
  return { matchId: plan.matchId, action: 'match:updated', data: Object.assign({ loadtest: run, kind }, fields) };
}

/**
 * The producers' event number `seq`, padded to PAYLOAD_BYTES.
 * @param {Plan} plan
 * @param {string} run
 * @param {number} seq
 */
export function updateEvent(plan, run, seq) {
  return roomEvent(plan, run, 'update', { seq, pad: 'x'.repeat(plan.payloadBytes) });
}

/**
 * @param {string | undefined} data
 * @returns {{ loadtest?: unknown, kind?: unknown, [field: string]: unknown } | undefined}
 */
function runFieldsOf(data) {
  if (data === undefined || data === '') return undefined;
  try {
    const parsed = JSON.parse(data);
    return parsed !== null && typeof parsed === 'object' && parsed.data !== null && typeof parsed.data === 'object' ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** What one subscriber saw: counts, a digest of the update ids, order, resyncs. */
export class SubscriberLedger {
  /**
   * @param {string} run
   * @param {Role} role
   * @param {number} subscriber
   * @param {number} openedAtMs when the stream was requested (for time to first event)
   * @param {{ keepIds?: boolean }} [options] keep every id (the Node runner compares lists)
   */
  constructor(run, role, subscriber, openedAtMs, options = {}) {
    this.run = run;
    this.role = role;
    this.subscriber = subscriber;
    this.openedAtMs = openedAtMs;
    /** @type {string[] | undefined} */
    this.ids = options.keepIds === true ? [] : undefined;
    this.digest = new IdDigest();
    this.resyncs = 0;
    this.outOfOrder = 0;
    this.ended = false;
    /** @type {number | null} */
    this.firstEventMs = null;
    /** @type {string | undefined} */
    this.lastId = undefined;
    this.eventsReceived = 0;
  }

  /** The run is over for this subscriber (end marker, or its end time passed). */
  markEnded() {
    this.ended = true;
  }

  /**
   * Takes one message; answers what it was, so the shell can time, pause or close.
   * @param {StreamMessage} message
   * @param {number} nowMs
   * @returns {'first' | 'update' | 'resync' | 'end' | 'other'}
   */
  observe(message, nowMs) {
    if (message.name === 'resync') {
      this.resyncs++;
      return 'resync';
    }
    const id = message.id;
    if (id === undefined || id === '') return 'other';
    const fields = runFieldsOf(message.data);
    if (fields === undefined || fields.loadtest !== this.run) return 'other';
    if (this.lastId !== undefined && compareStreamIds(id, this.lastId) <= 0) {
      this.outOfOrder++;
      return 'other';
    }
    this.lastId = id;
    this.eventsReceived++;
    if (fields.kind === 'end') {
      this.ended = true;
      return 'end';
    }
    if (fields.kind !== 'update') return 'other';
    this.digest.add(id);
    if (this.ids !== undefined) this.ids.push(id);
    if (this.firstEventMs === null) {
      this.firstEventMs = Math.max(0, nowMs - this.openedAtMs);
      return 'first';
    }
    return 'update';
  }

  get received() {
    return this.digest.count;
  }

  /** @returns {SubscriberReport} */
  report() {
    return {
      role: this.role,
      subscriber: this.subscriber,
      received: this.digest.count,
      digest: this.digest.value(),
      resyncs: this.resyncs,
      outOfOrder: this.outOfOrder,
      ended: this.ended,
      firstEventMs: this.firstEventMs,
      eventsReceived: this.eventsReceived,
      lastEventId: this.lastId ?? null,
    };
  }
}

/**
 * What a subscriber publishes before it opens its stream, so teardown knows who to expect
 * reports from (under the k6-operator each runner has its own share of the subscribers).
 * @param {Plan} plan
 * @param {string} run
 * @param {Role} role
 * @param {number} subscriber
 */
export function helloEvent(plan, run, role, subscriber) {
  return roomEvent(plan, run, 'hello', { role, subscriber });
}

/**
 * The report a subscriber publishes into the room when its stream is done.
 * @param {Plan} plan
 * @param {string} run
 * @param {SubscriberReport} report
 */
export function reportEvent(plan, run, report) {
  return roomEvent(plan, run, 'report', { report });
}

/** Teardown's replay of the room from the start marker to the fence: what was published, and the reports. */
export class RoomLedger {
  /**
   * @param {string} run
   * @param {string} fenceId
   * @param {{ keepIds?: boolean }} [options]
   */
  constructor(run, fenceId, options = {}) {
    this.run = run;
    this.fenceId = fenceId;
    this.published = new IdDigest();
    /** @type {string[] | undefined} */
    this.ids = options.keepIds === true ? [] : undefined;
    /** Ids of every event of the run, in stream order: what each subscriber was owed. */
    /** @type {string[]} */
    this.runIds = [];
    /** @type {SubscriberReport[]} */
    this.reports = [];
    /** Subscribers that said hello, by role. */
    this.started = { fast: 0, slow: 0 };
    this.endSeen = false;
    this.resyncs = 0;
    this.complete = false;
  }

  /**
   * @param {StreamMessage} message
   * @returns {boolean} true once the fence is reached: the replay is complete
   */
  observe(message) {
    if (message.name === 'resync') {
      // The stream no longer holds the start marker: events after it were trimmed.
      this.resyncs++;
      return false;
    }
    const id = message.id;
    if (id === undefined || id === '') return false;
    if (compareStreamIds(id, this.fenceId) >= 0) {
      this.complete = true;
      return true;
    }
    const fields = runFieldsOf(message.data);
    if (fields === undefined || fields.loadtest !== this.run) return false;
    this.runIds.push(id);
    if (fields.kind === 'update') {
      this.published.add(id);
      if (this.ids !== undefined) this.ids.push(id);
    } else if (fields.kind === 'end') this.endSeen = true;
    else if (fields.kind === 'hello' && (fields.role === 'fast' || fields.role === 'slow')) this.started[fields.role]++;
    else if (fields.kind === 'report' && fields.report !== null && typeof fields.report === 'object') {
      this.reports.push(/** @type {SubscriberReport} */ (fields.report));
    }
    return false;
  }

  /**
   * How many events of the run a subscriber that last saw `lastEventId` was owed.
   * @param {string | null} lastEventId
   */
  owedUpTo(lastEventId) {
    if (lastEventId === null) return 0;
    let owed = 0;
    while (owed < this.runIds.length && compareStreamIds(this.runIds[owed] ?? '', lastEventId) <= 0) owed++;
    return owed;
  }

  /** @returns {import('./verdict.js').RoomFacts} */
  facts() {
    return {
      published: this.published.count,
      digest: this.published.value(),
      reports: this.reports.map((report) => Object.assign({}, report, { owed: this.owedUpTo(report.lastEventId) })),
      started: { fast: this.started.fast, slow: this.started.slow },
      endSeen: this.endSeen,
      resyncs: this.resyncs,
      complete: this.complete,
    };
  }
}

export { judgeRun, VERDICT_RULES } from './verdict.js';
