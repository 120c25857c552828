// Generated from loadtest/room-ledger.js by `npm run generate`. Do not edit by hand.
// Teardown's replay of the room from the start marker to the fence: the authoritative list
// of what the run published, who said hello, every subscriber's report, and what each
// subscriber was owed; facts() hands it to judgeRun() (verdict.js). Plain JavaScript shared
// by k6 (sse.js) and the Node runner (run.ts).
import { IdDigest, compareStreamIds } from './ids.js';
import { runFieldsOf } from './room.js';

/**
 * @typedef {import('./room.js').StreamMessage} StreamMessage
 * @typedef {import('./subscriber-ledger.js').SubscriberReport} SubscriberReport
 */

/** Teardown's replay of the room from the start marker to the fence: what was published, and the reports. */
export class RoomLedger {
  /**
   * @param {string} run
   * @param {string} [fenceId] where the replay ends; fenceAt() sets it later when the
   *   replay starts before the fence is published (k6's teardown waits for reports first)
   * @param {{ keepIds?: boolean }} [options]
   */
  constructor(run, fenceId = '', options = {}) {
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
    if (this.fenceId !== '' && compareStreamIds(id, this.fenceId) >= 0) {
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
   * Ends the replay at `fenceId`: what comes from it on is no longer the run's.
   * @param {string} fenceId
   */
  fenceAt(fenceId) {
    this.fenceId = fenceId;
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
