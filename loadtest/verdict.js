// Judges a finished run: the room's replay (what was published, what each subscriber
// reports) against the service's own counters (what it dropped, sent, held open). Each
// rule is a regression the run must catch; k6 turns each into a threshold.

/**
 * @typedef {import('./plan.js').Plan} Plan
 * @typedef {import('./subscriber-ledger.js').SubscriberReport} SubscriberReport
 * @typedef {import('./prometheus.js').SseSnapshot} SseSnapshot
 * @typedef {{ rule: string, ok: boolean, detail: string }} Verdict
 * @typedef {SubscriberReport & { owed: number }} RoomReport a report, with the number of
 *   the run's events the service owed that subscriber (all kinds, up to its last one)
 * @typedef {{
 *   published: number, digest: string, reports: RoomReport[],
 *   started: { fast: number, slow: number }, endSeen: boolean, resyncs: number, complete: boolean,
 * }} RoomFacts
 * @typedef {{
 *   published: number, fastReports: number, slowReports: number, slowMissed: number,
 *   droppedQueueFull: number, droppedTotal: number, sent: number, opened: number,
 *   connectionsDelta: number,
 * }} RunNumbers
 */

/** The rules, in the order the summary prints them. */
export const VERDICT_RULES = [
  'room_replayed',
  'reports_complete',
  'fast_received_everything',
  'slow_in_order_and_told',
  'drops_only_with_slow',
  'drops_accounted',
  'no_connection_leak',
];

/**
 * @param {RoomReport[]} reports
 * @param {string} role
 */
function byRole(reports, role) {
  return reports.filter((report) => report.role === role);
}

/**
 * Events the service owed a subscriber and it never got: dropped, whatever their kind.
 * @param {RoomReport} report
 */
function missedBy(report) {
  return Math.max(0, report.owed - report.eventsReceived);
}

/**
 * @param {Plan} plan
 * @param {RoomFacts} room
 * @param {SseSnapshot} delta metrics after the run minus before (prometheus.js snapshotDelta)
 * @returns {{ verdicts: Verdict[], numbers: RunNumbers }}
 */
export function judgeRun(plan, room, delta) {
  const fast = byRole(room.reports, 'fast');
  const slow = byRole(room.reports, 'slow');
  const queueFull = delta.dropped.queue_full ?? 0;
  const slowMissed = slow.reduce((total, report) => total + missedBy(report), 0);
  const fastMissed = fast.reduce((total, report) => total + missedBy(report), 0);
  /** @type {Verdict[]} */
  const verdicts = [];
  /**
   * @param {string} rule
   * @param {boolean} ok
   * @param {string} detail
   */
  const judge = (rule, ok, detail) => verdicts.push({ rule, ok, detail });

  judge(
    'room_replayed',
    room.complete && room.resyncs === 0 && room.published > 0,
    room.resyncs > 0
      ? 'the stream no longer holds the start marker: keep RATE x DURATION well below REALTIME_STREAM_MAXLEN'
      : !room.complete
        ? 'the replay stopped before the fence'
        : `${room.published} updates published${room.endSeen ? '' : ' (subscribers closed on time: no end marker in this room)'}`,
  );

  const unfinished = room.reports.filter((report) => !report.ended).length;
  // The whole run, every runner's share of it: the plan's subscribers, all of them.
  const expectedFast = plan.fastSubscribers;
  const expectedSlow = plan.slowSubscribers;
  judge(
    'reports_complete',
    fast.length === expectedFast &&
      slow.length === expectedSlow &&
      room.started.fast === expectedFast &&
      room.started.slow === expectedSlow &&
      unfinished === 0,
    `${fast.length}/${expectedFast} fast and ${slow.length}/${expectedSlow} slow subscribers reported (${room.started.fast} and ${room.started.slow} started)` +
      (unfinished > 0 ? `, ${unfinished} gave up before the run ended` : ''),
  );

  const incomplete = fast.filter(
    (report) => report.digest !== room.digest || report.resyncs > 0 || report.outOfOrder > 0 || missedBy(report) > 0,
  );
  const firstIncomplete = incomplete[0];
  judge(
    'fast_received_everything',
    fast.length > 0 && incomplete.length === 0,
    firstIncomplete === undefined
      ? `${fast.length} fast subscribers each received all ${room.published} ids, in order`
      : `${incomplete.length} of ${fast.length} fast subscribers differ from the published ids; subscriber ${firstIncomplete.subscriber} received ${firstIncomplete.received} of ${room.published} (digest ${firstIncomplete.digest}, expected ${room.digest}), ${firstIncomplete.resyncs} resyncs, ${firstIncomplete.outOfOrder} out of order`,
  );

  const misbehaving = slow.filter(
    (report) =>
      report.outOfOrder > 0 || report.received > room.published || (missedBy(report) > 0 && report.resyncs === 0),
  );
  judge(
    'slow_in_order_and_told',
    misbehaving.length === 0,
    slow.length === 0
      ? 'no slow subscribers'
      : misbehaving.length === 0
        ? `${slow.length} slow subscribers got their events in order and a resync for every gap (${slowMissed} events missed in all)`
        : `${misbehaving.length} slow subscribers lost events without a resync, or got them out of order`,
  );

  const otherDrops = delta.droppedTotal - queueFull;
  const slowRan = room.started.slow > 0;
  judge(
    'drops_only_with_slow',
    slowRan ? queueFull > 0 && otherDrops === 0 : delta.droppedTotal === 0,
    slowRan && queueFull === 0
      ? 'slow subscribers ran but nothing was dropped: raise SLOW_PAUSE, RATE or PAYLOAD_BYTES so their queue overflows'
      : `${queueFull} dropped (queue_full), ${otherDrops} dropped for other reasons`,
  );

  const instances = Object.keys(delta.droppedByInstance)
    .sort()
    .map((instance) => `${instance} ${delta.droppedByInstance[instance]}`);
  const targets = ` (${delta.targets} instance${delta.targets === 1 ? '' : 's'}: ${instances.join(', ')})`;
  const missed = slowMissed + fastMissed;
  judge(
    'drops_accounted',
    queueFull === missed,
    `the service counted ${queueFull} queue_full drops${targets}; subscribers missed ${missed} events (${slowMissed} by slow ones)`,
  );

  judge(
    'no_connection_leak',
    // Fewer than before is no leak of this run: a later k6-operator runner's stream that
    // looked for the start marker may have been open when the baseline was taken.
    delta.connections <= 0,
    `open connections changed by ${delta.connections} over the run (${delta.opened} opened)`,
  );

  return {
    verdicts,
    numbers: {
      published: room.published,
      fastReports: fast.length,
      slowReports: slow.length,
      slowMissed,
      droppedQueueFull: queueFull,
      droppedTotal: delta.droppedTotal,
      sent: delta.sent,
      opened: delta.opened,
      connectionsDelta: delta.connections,
    },
  };
}
