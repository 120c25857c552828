// The scenario's pure parts: knobs from the environment, what each subscriber records, and
// what teardown reads back from the room.
import { describe, expect, it } from 'vitest';
import { IdDigest, compareStreamIds } from './ids.js';
import { RoomLedger, SubscriberLedger, helloEvent, parseDurationSeconds, planFrom, reportEvent, roomEvent, streamUrl, subscriberToken, updateEvent } from './scenario.js';

const env = { TOKEN: 't', METRICS_URL: 'http://m:9464/metrics' };

/** A message as the service frames it: id, action as name, the event JSON as data. */
function message(id: string | undefined, body: { data?: Record<string, unknown> }, name = 'match:updated') {
  return { id, name, data: JSON.stringify({ matchId: 'loadtest', action: name, timestamp: '2026-11-27T08:00:00.000Z', ...body }) };
}

describe('the plan', () => {
  it('has working defaults, reads every knob and takes k6-style durations', () => {
    const plan = planFrom(env);
    expect(plan).toMatchObject({
      baseUrl: 'http://127.0.0.1:4001',
      metricsUrls: ['http://m:9464/metrics'],
      subscriberTokens: ['t'],
      producerToken: 't',
      matchId: 'loadtest',
      fastSubscribers: 50,
      slowSubscribers: 2,
      rate: 50,
      durationSeconds: 60,
      payloadBytes: 16384,
      slowPauseSeconds: 30,
    });
    const custom = planFrom({
      ...env,
      BASE_URL: 'http://svc:4001/',
      METRICS_URL: 'http://a/metrics, http://b/metrics',
      TOKENS: 'x,y',
      PRODUCER_TOKEN: 'p',
      VUS: '3',
      SLOW_VUS: '0',
      RATE: '2.5',
      DURATION: '1m30s',
      SLOW_PAUSE: '500ms',
    });
    expect(custom).toMatchObject({ baseUrl: 'http://svc:4001', metricsUrls: ['http://a/metrics', 'http://b/metrics'], subscriberTokens: ['x', 'y'] });
    expect(custom).toMatchObject({ producerToken: 'p', fastSubscribers: 3, slowSubscribers: 0, rate: 2.5, durationSeconds: 90, slowPauseSeconds: 0.5 });
    expect([0, 1, 2, 3].map((n) => subscriberToken(custom, n))).toEqual(['x', 'y', 'x', 'y']);
    expect(parseDurationSeconds('2h')).toBe(7200);
    expect(parseDurationSeconds('45')).toBe(45);
  });

  it('names the knob that is missing or wrong', () => {
    expect(() => planFrom({ METRICS_URL: 'http://m/metrics' })).toThrow(/TOKEN is required/);
    expect(() => planFrom({ ...env, VUS: 'many' })).toThrow(/VUS must be a whole number/);
    expect(() => planFrom({ ...env, RATE: '0' })).toThrow(/RATE must be a positive/);
    expect(() => planFrom({ ...env, DURATION: 'soon' })).toThrow(/not a duration/);
    expect(() => planFrom({ ...env, MATCH_ID: 'no spaces' })).toThrow(/MATCH_ID/);
    expect(() => planFrom({ ...env, DURATION: '10s', SLOW_PAUSE: '10s' })).toThrow(/SLOW_PAUSE .* shorter than DURATION/);
    expect(() => planFrom({ ...env, DURATION: '10s', SLOW_PAUSE: '10s', SLOW_VUS: '0' })).not.toThrow();
  });

  it('streams the room resuming after the start marker, and publishes padded updates into it', () => {
    const plan = planFrom({ ...env, MATCH_ID: 'm:1', PAYLOAD_BYTES: '10' });
    expect(streamUrl(plan, '1-0')).toBe('http://127.0.0.1:4001/api/realtime/stream?matchId=m%3A1&lastEventId=1-0');
    expect(updateEvent(plan, 'run', 7)).toEqual({ matchId: 'm:1', action: 'match:updated', data: { loadtest: 'run', kind: 'update', seq: 7, pad: 'x'.repeat(10) } });
    expect(roomEvent(plan, 'run', 'end')).toEqual({ matchId: 'm:1', action: 'match:updated', data: { loadtest: 'run', kind: 'end' } });
  });
});

describe('a subscriber ledger', () => {
  it("counts this run's updates and events, times the first, notes resyncs and the end, and ignores heartbeats and other runs", () => {
    const ledger = new SubscriberLedger('run', 'fast', 4, 1000, { keepIds: true });
    expect(ledger.observe({ id: '', name: '', data: '' }, 1001)).toBe('other'); // heartbeat, as xk6-sse hands it over
    expect(ledger.observe(message('5-0', { data: { loadtest: 'other-run', kind: 'update' } }), 1002)).toBe('other');
    expect(ledger.observe(message('5-1', { data: { loadtest: 'run', kind: 'hello', role: 'fast', subscriber: 4 } }), 1003)).toBe('other');
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
    expect([room.owedUpTo(null), room.owedUpTo('5-9'), room.owedUpTo('6-1'), room.owedUpTo('8-0')]).toEqual([0, 1, 3, 5]);

    const trimmed = new RoomLedger('run', '9-0');
    trimmed.observe({ name: 'resync', data: '{"action":"resync","reason":"resume_point_trimmed"}' });
    expect(trimmed.facts()).toMatchObject({ resyncs: 1, complete: false });
  });
});

describe('stream ids', () => {
  it('order by time then sequence, beyond 2^53 too; the digest depends on every id and their order', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('18446744073709551615-1', '18446744073709551615-0')).toBeGreaterThan(0);
    expect(compareStreamIds('5-5', '5-5')).toBe(0);
    const digest = (ids: string[]) => {
      const d = new IdDigest();
      for (const id of ids) d.add(id);
      return d.value();
    };
    expect(digest(['1-0', '2-0'])).toBe(digest(['1-0', '2-0']));
    expect(digest(['1-0', '2-0'])).not.toBe(digest(['2-0', '1-0']));
    expect(digest(['1-0', '2-0'])).not.toBe(digest(['1-0', '2-1']));
    expect(digest([])).toBe('0:811c9dc5');
  });
});
