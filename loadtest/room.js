// The room's protocol: what the run publishes into its room (MATCH_ID) and how a message
// read back from the room is recognised as the run's. k6 (sse.js) and the Node runner
// (run.ts) are thin shells around these modules, so the logic CI runs is the logic
// operators run.
//
// The room is the ledger. k6 virtual users share no memory (and under the k6-operator not
// even a process), so everything a verdict needs travels through the service under test,
// in one room:
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

/**
 * @typedef {import('./plan.js').Plan} Plan
 * @typedef {import('./plan.js').Role} Role
 * @typedef {import('./subscriber-ledger.js').SubscriberReport} SubscriberReport
 */

/**
 * One SSE message as a client library hands it over (xk6-sse's event, eventsource-parser's
 * message): heartbeats and retry hints arrive without id, name or data.
 * @typedef {{ id?: string | undefined, name?: string | undefined, data?: string | undefined }} StreamMessage
 */

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

/**
 * The run fields of a message's event (`data` of the published body: loadtest, kind, ...),
 * or undefined when the message is no event a run published.
 * @param {string | undefined} data
 * @returns {{ loadtest?: unknown, kind?: unknown, [field: string]: unknown } | undefined}
 */
export function runFieldsOf(data) {
  if (data === undefined || data === '') return undefined;
  try {
    const parsed = JSON.parse(data);
    return parsed !== null && typeof parsed === 'object' && parsed.data !== null && typeof parsed.data === 'object'
      ? parsed.data
      : undefined;
  } catch {
    return undefined;
  }
}
