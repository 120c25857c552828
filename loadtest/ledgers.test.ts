// The two ends of the run's accounting: what each subscriber records of its stream, and what
// teardown reads back from the room up to the fence.
import { describe, expect, it } from 'vitest';
import { IdDigest } from './ids.js';
import { planFrom } from './plan.js';
import { helloEvent, reportEvent } from './room.js';
import { RoomLedger } from './room-ledger.js';
import { SubscriberLedger } from './subscriber-ledger.js';

const env = { TOKEN: 't', METRICS_URL: 'http://m:9464/metrics' };

/** A message as the service frames it: id, action as name, the event JSON as data. */
function message(id: string | undefined, body: { data?: Record<string, unknown> }, name = 'match:updated') {
  return {
    id,
    name,
    data: JSON.stringify({ matchId: 'loadtest', action: name, timestamp: '2026-11-27T08:00:00.000Z', ...body }),
  };
}

describe('a subscriber ledger', () => {
  it("counts this run's updates and events, times the first, notes resyncs and the end, and ignores heartbeats and other runs", () => {
    const ledger = new SubscriberLedger('run', 'fast', 4, 1000, { keepIds: true });
    expect(ledger.observe({ id: '', name: '', data: '' }, 1001)).toBe('other'); // heartbeat, as xk6-sse hands it over
    expect(ledger.observe(message('5-0', { data: { loadtest: 'other-run', kind: 'update' } }), 1002)).toBe('other');
    expect(
      ledger.observe(message('5-1', { data: { loadtest: 'run', kind: 'hello', role: 'fast', subscriber: 4 } }), 1003),
    ).toBe('other');
    expect(ledger.observe(message('6-0', { data: { loadtest: 'run', kind: 'update', seq: 0 } }), 1250)).toBe('first');
    expect(ledger.observe({ name: 'resync', data: '{"action":"resync"}' }, 1300)).toBe('resync');
    expect(ledger.observe(message('6-1', { data: { loadtest: 'run', kind: 'update', seq: 1 } }), 1301)).toBe('update');
    // The same id again: out of order, not counted twice.
    expect(ledger.observe(message('6-1', { data: { loadtest: 'run', kind: 'update', seq: 1 } }), 1302)).toBe('other');
    expect(ledger.ended).toBe(false);
    expect(ledger.observe(message('7-0', { data: { loadtest: 'run', kind: 'end' } }), 1400)).toBe('end');
    expect(ledger.ids).toEqual(['6-0', '6-1']);
    expect(ledger.report()).toEqual({
      role: 'fast',
      subscriber: 4,
      received: 2,
      digest: ledger.digest.value(),
      resyncs: 1,
      outOfOrder: 1,
      ended: true,
      firstEventMs: 250,
      eventsReceived: 4,
      lastEventId: '7-0',
    });
  });
});

describe('the room ledger', () => {
  it('collects the published ids and the reports up to the fence, and notices a trimmed stream', () => {
    const plan = planFrom(env);
    const room = new RoomLedger('run', '9-0', { keepIds: true });
    const report = new SubscriberLedger('run', 'slow', 2, 0).report();
    expect(room.observe(message('5-9', helloEvent(plan, 'run', 'slow', 2)))).toBe(false);
    expect(room.observe(message('5-10', helloEvent(plan, 'other-run', 'fast', 1)))).toBe(false);
    expect(room.observe(message('6-0', { data: { loadtest: 'run', kind: 'update', seq: 0 } }))).toBe(false);
    expect(room.observe(message('6-1', { data: { loadtest: 'run', kind: 'update', seq: 1 } }))).toBe(false);
    expect(room.observe(message('7-0', { data: { loadtest: 'run', kind: 'end' } }))).toBe(false);
    expect(room.observe(message('8-0', reportEvent(plan, 'run', report)))).toBe(false);
    expect(room.observe(message('9-0', { data: { loadtest: 'run', kind: 'fence' } }))).toBe(true);
    const digest = new IdDigest();
    digest.add('6-0');
    digest.add('6-1');
    expect(room.facts()).toEqual({
      published: 2,
      digest: digest.value(),
      reports: [{ ...report, owed: 0 }],
      started: { fast: 0, slow: 1 },
      endSeen: true,
      resyncs: 0,
      complete: true,
    });

    // A subscriber is owed every event of the run up to the last one it saw, whatever its kind.
    expect([room.owedUpTo(null), room.owedUpTo('5-9'), room.owedUpTo('6-1'), room.owedUpTo('8-0')]).toEqual([
      0, 1, 3, 5,
    ]);

    const trimmed = new RoomLedger('run', '9-0');
    trimmed.observe({ name: 'resync', data: '{"action":"resync","reason":"resume_point_trimmed"}' });
    expect(trimmed.facts()).toMatchObject({ resyncs: 1, complete: false });
  });
});
