// The in-cluster accounting reads Prometheus' answers: every pod's series, summed, with a
// pod that left during the run still counted, and no verdict before every pod was scraped.
// (prometheus-api.e2e.test.ts runs the whole scenario against a real Prometheus.)
import { describe, expect, it } from 'vitest';
import { serviceMetrics } from '#contract';
import {
  freshnessQuery,
  scrapedSince,
  snapshotFromAnswers,
  snapshotQueries,
  type QueryAnswer,
} from './prometheus-api.js';
import { snapshotDelta } from './prometheus.js';

function vector(...samples: [Record<string, string>, number][]): QueryAnswer {
  return {
    status: 'success',
    data: { resultType: 'vector', result: samples.map(([metric, value]) => ({ metric, value: [0, String(value)] })) },
  };
}

/** Answers to snapshotQueries() for pods given as [pod, queue_full drops, sent, open]. */
function answers(...pods: [string, number, number, number][]) {
  const of = (pick: (pod: [string, number, number, number]) => number, labels: Record<string, string> = {}) =>
    vector(...pods.map((pod): [Record<string, string>, number] => [{ pod: pod[0], ...labels }, pick(pod)]));
  return [
    { name: serviceMetrics.eventsDropped, answer: of((pod) => pod[1], { reason: 'queue_full' }) },
    { name: serviceMetrics.eventsSent, answer: of((pod) => pod[2]) },
    { name: serviceMetrics.connections, answer: of((pod) => pod[3]) },
    { name: serviceMetrics.connectionsOpened, answer: of(() => 0) },
  ];
}

describe('the service figures from the Prometheus HTTP API', () => {
  it('asks for each series at the start, and for its last value over the run afterwards', () => {
    const selector = 'job="trayb-realtime",namespace="shop"';
    expect(snapshotQueries(selector, 1_000_000).map((q) => q.query)).toContain(
      `${serviceMetrics.eventsDropped}{${selector}}`,
    );
    expect(snapshotQueries(selector, 1_000_000, 1_000_000 - 90_500).map((q) => q.query)).toContain(
      `last_over_time(${serviceMetrics.eventsDropped}{${selector}}[91s])`,
    );
  });

  it('sums every pod, keeps each pod apart, and counts a pod that left or came during the run', () => {
    const before = snapshotFromAnswers(answers(['pod-a', 5, 100, 0], ['pod-b', 1, 50, 0]));
    // pod-b was replaced by pod-c: its last value over the run is still in the answer.
    const after = snapshotFromAnswers(answers(['pod-a', 25, 400, 0], ['pod-b', 11, 90, 0], ['pod-c', 7, 30, 0]));
    const delta = snapshotDelta(before, after);
    expect(delta.dropped.queue_full).toBe(37);
    expect(delta.droppedByInstance).toEqual({ 'pod-a': 20, 'pod-b': 10, 'pod-c': 7 });
    expect(delta.sent).toBe(370);
    expect(delta.targets).toBe(3);
  });

  it('waits until every live pod was scraped after the moment that matters, and refuses an empty selector', () => {
    expect(freshnessQuery('job="x"')).toBe(`min(timestamp(${serviceMetrics.connections}{job="x"}))`);
    const oldest = (seconds: number) => vector([{}, seconds]);
    expect(scrapedSince(oldest(1000), 999_000)).toBe(true);
    expect(scrapedSince(oldest(1000), 1_000_500)).toBe(false);
    expect(() => scrapedSince(vector(), 0)).toThrow(/PROMETHEUS_SELECTOR/);
    expect(() => snapshotFromAnswers([{ name: 'x', answer: { status: 'error', error: 'parse error' } }])).toThrow(
      /parse error/,
    );
  });
});
