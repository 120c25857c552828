// Generated from loadtest/subscriber-ledger.js by `npm run generate`. Do not edit by hand.
// What one subscriber saw of the run (counts, a digest of the update ids, order, resyncs,
// time to the first update), and the report it hands teardown when its stream is done.
// Plain JavaScript shared by k6 (sse.js) and the Node runner (run.ts).
import { IdDigest, compareStreamIds } from './ids.js';
import { runFieldsOf } from './room.js';

/**
 * @typedef {import('./plan.js').Role} Role
 * @typedef {import('./room.js').StreamMessage} StreamMessage
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
