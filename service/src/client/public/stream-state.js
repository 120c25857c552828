// The live client's connection policy, as pure functions over a plain state object: when
// a stream failure means "fall back to polling", how long to wait before the next attempt,
// and which events are new. No timers, no DOM, no EventSource here: live-client.js does the
// I/O, so this file runs unchanged in the browser and in Node unit tests.

/** @typedef {'connecting' | 'live' | 'reconnecting' | 'polling'} Mode */

/**
 * @typedef {{
 *   readonly failuresBeforePolling: number,
 *   readonly retryBaseMs: number,
 *   readonly retryMaxMs: number,
 *   readonly jitter: number,
 *   readonly pollIntervalMs: number,
 *   readonly shutdownRetryMs: number,
 * }} Policy
 */

/** @typedef {{ readonly mode: Mode, readonly consecutiveFailures: number, readonly lastEventId: string | null }} StreamState */

/**
 * A stream event as the service sends it in `data:` (the id travels beside it, in `id:`).
 * @typedef {{ matchId: string, action: string, data?: Record<string, unknown>, timestamp?: string }} StreamEvent
 */

/** Topics the stream carries; mirrors STREAM_EVENTS in service/src/contract/stream-topics.ts (a test keeps them equal). */
export const STREAM_EVENTS = Object.freeze(['match:created', 'match:updated', 'match:deleted']);

/** @type {Policy} */
export const DEFAULT_POLICY = Object.freeze({
  /** Consecutive failed attempts after which the client polls the REST state (operations notes: 3). */
  failuresBeforePolling: 3,
  /** First reconnect delay after a failure; doubles per consecutive failure up to retryMaxMs. */
  retryBaseMs: 1000,
  retryMaxMs: 30_000,
  /** Share of each delay taken off at random, so clients of one failed instance do not return together. */
  jitter: 0.2,
  /** How often the REST state is polled while the stream is down. */
  pollIntervalMs: 5000,
  /** Reconnect delay after `shutdown` when the event carries no hint (the service advertises 5000). */
  shutdownRetryMs: 5000,
});

const STREAM_ID = /^(\d+)-(\d+)$/;

/**
 * @param {unknown} value
 * @returns {value is string}
 */
export function isStreamId(value) {
  return typeof value === 'string' && STREAM_ID.test(value);
}

/**
 * A stream id's two numbers; beyond 2^53, so as bigints.
 * @param {string} id
 * @returns {[bigint, bigint]}
 */
function idParts(id) {
  const match = STREAM_ID.exec(id);
  if (match === null) throw new TypeError(`not a stream id: ${id}`);
  return [BigInt(match[1] ?? ''), BigInt(match[2] ?? '')];
}

/**
 * Orders Redis stream ids ("<ms>-<seq>") numerically: negative, zero or positive.
 * @param {string} a
 * @param {string} b
 * @returns {-1 | 0 | 1}
 */
export function compareStreamIds(a, b) {
  const [aMs, aSeq] = idParts(a);
  const [bMs, bSeq] = idParts(b);
  const ms = aMs - bMs;
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = aSeq - bSeq;
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/**
 * mode: 'connecting' (first attempt), 'live' (stream open), 'reconnecting' (waiting to retry
 * after fewer failures than the threshold, or after `shutdown`), 'polling' (threshold reached:
 * REST polling runs while the stream is retried in the background).
 * @param {string | null} [lastEventId] the resume point kept from before, if it is a stream id
 * @returns {StreamState}
 */
export function initialState(lastEventId = null) {
  return { mode: 'connecting', consecutiveFailures: 0, lastEventId: isStreamId(lastEventId) ? lastEventId : null };
}

/**
 * The stream opened: failures are forgiven and polling stops.
 * @param {StreamState} state
 * @returns {StreamState}
 */
export function streamOpened(state) {
  return { ...state, mode: 'live', consecutiveFailures: 0 };
}

/**
 * Delay before attempt number `failures + 1`: exponential, capped, minus up to `jitter` of it.
 * @param {number} failures
 * @param {Policy} [policy]
 * @param {() => number} [random]
 * @returns {number}
 */
export function retryDelay(failures, policy = DEFAULT_POLICY, random = Math.random) {
  const exponent = Math.max(0, failures - 1);
  const full = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** exponent);
  return Math.round(full * (1 - policy.jitter * random()));
}

/**
 * An attempt failed (an error before the stream opened) or an open stream broke. Returns the
 * next state and the delay before the next attempt.
 * @param {StreamState} state
 * @param {Policy} [policy]
 * @param {() => number} [random]
 * @returns {{ state: StreamState, retryInMs: number }}
 */
export function streamFailed(state, policy = DEFAULT_POLICY, random = Math.random) {
  const consecutiveFailures = state.consecutiveFailures + 1;
  const mode = consecutiveFailures >= policy.failuresBeforePolling ? 'polling' : 'reconnecting';
  return { state: { ...state, mode, consecutiveFailures }, retryInMs: retryDelay(consecutiveFailures, policy, random) };
}

/**
 * The instance announced it is going away. This is not a failure: the client reconnects
 * after the hint the event carries and resumes from its last id.
 * @param {StreamState} state
 * @param {unknown} retryMs the event's hint, whatever the service sent
 * @param {Policy} [policy]
 * @returns {{ state: StreamState, retryInMs: number }}
 */
export function shutdownAnnounced(state, retryMs, policy = DEFAULT_POLICY) {
  const hint =
    typeof retryMs === 'number' && Number.isFinite(retryMs) && retryMs >= 0 ? retryMs : policy.shutdownRetryMs;
  return { state: { ...state, mode: 'reconnecting' }, retryInMs: hint };
}

/**
 * Dedupe by id: stream ids only grow, so an event at or before the last one seen is a
 * duplicate (a replay overlapping what was already delivered). Returns `fresh` and the state
 * with the new resume point.
 * @param {StreamState} state
 * @param {string} id
 * @returns {{ state: StreamState, fresh: boolean }}
 */
export function eventReceived(state, id) {
  if (!isStreamId(id)) return { state, fresh: true };
  if (state.lastEventId !== null && compareStreamIds(id, state.lastEventId) <= 0) return { state, fresh: false };
  return { state: { ...state, lastEventId: id }, fresh: true };
}

/**
 * Overrides of the policy from a query string (tests and operators), clamped to sane ranges.
 * @param {URLSearchParams} params
 * @param {Policy} [base]
 * @returns {Policy}
 */
export function policyFrom(params, base = DEFAULT_POLICY) {
  /** @type {{ -readonly [K in keyof Policy]: Policy[K] }} */
  const policy = { ...base };
  /**
   * @param {'failuresBeforePolling' | 'retryBaseMs' | 'retryMaxMs' | 'pollIntervalMs'} name
   * @param {number} min
   * @param {number} max
   */
  const read = (name, min, max) => {
    const raw = params.get(name);
    if (raw === null || raw === '') return;
    const value = Number(raw);
    if (Number.isFinite(value)) policy[name] = Math.min(max, Math.max(min, value));
  };
  read('failuresBeforePolling', 1, 20);
  read('retryBaseMs', 100, 60_000);
  read('retryMaxMs', 100, 300_000);
  read('pollIntervalMs', 250, 300_000);
  policy.retryMaxMs = Math.max(policy.retryMaxMs, policy.retryBaseMs);
  return Object.freeze(policy);
}
