// How a finished run is judged: each rule fails on the regression it exists for, and only then.
import { describe, expect, it } from 'vitest';
import { VERDICT_RULES, judgeRun } from './verdict.js';
import { planFrom } from './plan.js';
import type { SubscriberReport } from './subscriber-ledger.js';
import type { SseSnapshot } from './prometheus.js';
import type { RoomFacts, RoomReport } from './verdict.js';

const plan = planFrom({
  TOKEN: 't',
  METRICS_URL: 'http://m/metrics',
  VUS: '2',
  SLOW_VUS: '1',
  DURATION: '10s',
  SLOW_PAUSE: '5s',
});
const DIGEST = '100:abcdef01';

/**
 * A subscriber's report as teardown sees it: 100 updates among 110 events of the run
 * (markers, hellos, reports) owed to it, all received unless `changes` says otherwise.
 */
function report(role: 'fast' | 'slow', subscriber: number, changes: Partial<RoomReport> = {}): RoomReport {
  const base: SubscriberReport = {
    role,
    subscriber,
    received: 100,
    digest: DIGEST,
    resyncs: 0,
    outOfOrder: 0,
    ended: true,
    firstEventMs: 5,
    eventsReceived: 110,
    lastEventId: '9-0',
  };
  return { ...base, owed: 110, ...changes };
}

/** A healthy run: 100 published, two fast subscribers got all, the slow one missed 30 and was told. */
function healthy(): { room: RoomFacts; delta: SseSnapshot } {
  return {
    room: {
      published: 100,
      digest: DIGEST,
      reports: [
        report('fast', 1),
        report('fast', 2),
        report('slow', 3, { received: 70, eventsReceived: 80, digest: '70:00000001', resyncs: 2 }),
      ],
      started: { fast: 2, slow: 1 },
      endSeen: true,
      resyncs: 0,
      complete: true,
    },
    delta: {
      dropped: { queue_full: 30, shutdown: 0 },
      droppedTotal: 30,
      droppedByInstance: { 'pod-a': 30 },
      sent: 270,
      connections: 0,
      opened: 4,
      targets: 1,
    },
  };
}

function failedRules(room: RoomFacts, delta: SseSnapshot, runPlan = plan): string[] {
  return judgeRun(runPlan, room, delta)
    .verdicts.filter((verdict) => !verdict.ok)
    .map((verdict) => verdict.rule);
}

describe('judging a run', () => {
  it('passes a healthy run on every rule, and reports its numbers', () => {
    const { room, delta } = healthy();
    const { verdicts, numbers } = judgeRun(plan, room, delta);
    expect(verdicts.map((verdict) => verdict.rule)).toEqual(VERDICT_RULES);
    expect(verdicts.filter((verdict) => !verdict.ok)).toEqual([]);
    expect(numbers).toEqual({
      published: 100,
      fastReports: 2,
      slowReports: 1,
      slowMissed: 30,
      droppedQueueFull: 30,
      droppedTotal: 30,
      sent: 270,
      opened: 4,
      connectionsDelta: 0,
    });
    expect(verdicts.find((verdict) => verdict.rule === 'drops_accounted')?.detail).toMatch(
      /counted 30 queue_full drops \(1 instance: pod-a 30\)/,
    );
  });

  const regressions: [string, (run: ReturnType<typeof healthy>) => void, string[]][] = [
    [
      'a fast subscriber silently missed one update',
      (run) => (run.room.reports[0] = report('fast', 1, { received: 99, eventsReceived: 109, digest: '99:1' })),
      ['fast_received_everything', 'drops_accounted'],
    ],
    [
      'a fast subscriber silently missed an end marker',
      (run) => (run.room.reports[0] = report('fast', 1, { eventsReceived: 109 })),
      ['fast_received_everything', 'drops_accounted'],
    ],
    [
      'a fast subscriber got the right count but other ids',
      (run) => (run.room.reports[1] = report('fast', 2, { digest: '100:ffffffff' })),
      ['fast_received_everything'],
    ],
    [
      'a fast subscriber was told to resync',
      (run) => (run.room.reports[0] = report('fast', 1, { resyncs: 1 })),
      ['fast_received_everything'],
    ],
    ['a subscriber never reported', (run) => run.room.reports.splice(1, 1), ['reports_complete']],
    [
      'a subscriber gave up before the run ended',
      (run) => (run.room.reports[0] = report('fast', 1, { ended: false })),
      ['reports_complete'],
    ],
    [
      'fewer subscribers started than planned',
      (run) => ((run.room.started.fast = 1), run.room.reports.splice(1, 1)),
      ['reports_complete'],
    ],
    [
      'the service dropped more than the slow subscribers missed',
      (run) => ((run.delta.dropped.queue_full = 31), (run.delta.droppedTotal = 31)),
      ['drops_accounted'],
    ],
    [
      'the slow subscriber lost events silently',
      (run) => (run.room.reports[2] = report('slow', 3, { received: 70, eventsReceived: 80, resyncs: 0 })),
      ['slow_in_order_and_told'],
    ],
    [
      'the service dropped a marker for the slow subscriber without counting it',
      (run) => (run.room.reports[2] = report('slow', 3, { received: 70, eventsReceived: 79, resyncs: 2 })),
      ['drops_accounted'],
    ],
    [
      'events were dropped for another reason',
      (run) => ((run.delta.dropped.shutdown = 3), (run.delta.droppedTotal = 33)),
      ['drops_only_with_slow'],
    ],
    ['a connection stayed open', (run) => (run.delta.connections = 1), ['no_connection_leak']],
    ['the stream was trimmed under the replay', (run) => (run.room.resyncs = 1), ['room_replayed']],
    [
      'nothing was published',
      (run) => ((run.room.published = 0), (run.room.reports = [])),
      ['room_replayed', 'reports_complete', 'fast_received_everything'],
    ],
  ];
  it('passes when a stream open before the run (a later runner looking for the start marker) closed during it', () => {
    const { room, delta } = healthy();
    expect(failedRules(room, { ...delta, connections: -1 })).toEqual([]);
  });

  for (const [what, breakRun, rules] of regressions) {
    it(`fails ${rules.join(', ')} when ${what}`, () => {
      const run = healthy();
      breakRun(run);
      expect(failedRules(run.room, run.delta)).toEqual(expect.arrayContaining(rules));
      if (what !== 'nothing was published') expect(failedRules(run.room, run.delta)).toEqual(rules);
    });
  }

  it('without slow subscribers, any drop fails, and none passes', () => {
    const fastOnly = planFrom({ TOKEN: 't', METRICS_URL: 'http://m/metrics', VUS: '2', SLOW_VUS: '0' });
    const { room, delta } = healthy();
    room.reports = room.reports.filter((entry) => entry.role === 'fast');
    room.started.slow = 0;
    expect(failedRules(room, { ...delta, dropped: { queue_full: 0 }, droppedTotal: 0 }, fastOnly)).toEqual([]);
    expect(failedRules(room, { ...delta, dropped: { queue_full: 1 }, droppedTotal: 1 }, fastOnly)).toEqual([
      'drops_only_with_slow',
      'drops_accounted',
    ]);
  });

  it('judges the whole run of several k6-operator runners: every runner’s reports and drops add up, or it fails', () => {
    // One runner reported its fast subscriber and the other has not: the run is not complete,
    // and the drops counted for the whole service no longer match the misses reported.
    const { room, delta } = healthy();
    room.reports = room.reports.filter((r) => r.subscriber !== 2);
    expect(failedRules(room, delta)).toEqual(['reports_complete']);
    expect(failedRules({ ...room, reports: room.reports.filter((r) => r.role !== 'slow') }, delta)).toEqual([
      'reports_complete',
      'drops_accounted',
    ]);
  });

  it('with slow subscribers that never overflowed, says how to make them overflow', () => {
    const { room } = healthy();
    room.reports[2] = report('slow', 3);
    const { verdicts } = judgeRun(plan, room, {
      dropped: { queue_full: 0 },
      droppedTotal: 0,
      droppedByInstance: { 'pod-a': 0 },
      sent: 300,
      connections: 0,
      opened: 4,
      targets: 1,
    });
    const verdict = verdicts.find((entry) => entry.rule === 'drops_only_with_slow');
    expect(verdict?.ok).toBe(false);
    expect(verdict?.detail).toMatch(/raise SLOW_PAUSE/);
  });
});
