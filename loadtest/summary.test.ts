// The summary a person reads after a run: k6's end-of-test data turned back into verdicts
// and numbers (teardown hands them over as gauges), and the runner's own checks.
import { describe, expect, it } from 'vitest';
import {
  NUMBER_METRICS,
  TIME_TO_FIRST_EVENT,
  passed,
  summaryFromK6,
  summaryText,
  timingOf,
  verdictMetric,
  type K6SummaryData,
} from './summary.js';
import { VERDICT_RULES } from './verdict.js';
import { runnerChecks } from './runner-checks.js';

function k6Data(verdict: (rule: string) => number | undefined): K6SummaryData {
  const metrics: K6SummaryData['metrics'] = {};
  for (const rule of VERDICT_RULES) {
    const value = verdict(rule);
    if (value !== undefined)
      metrics[verdictMetric(rule)] = { type: 'gauge', values: { value, min: value, max: value } };
  }
  for (const [key, name] of Object.entries(NUMBER_METRICS))
    metrics[name] = { type: 'gauge', values: { value: key === 'published' ? 3000 : 7 } };
  metrics[TIME_TO_FIRST_EVENT] = { type: 'trend', values: { avg: 12.4, 'p(95)': 40.2, max: 90, count: 52 } };
  return { metrics, setup_data: { run: 'lt-abc', startId: '1-0' } };
}

describe('the run summary', () => {
  it("reads k6's gauges back into verdicts, numbers and time to first event", () => {
    const summary = summaryFromK6(k6Data(() => 1));
    expect(passed(summary)).toBe(true);
    expect(summary.run).toBe('lt-abc');
    expect(summary.numbers).toMatchObject({ published: 3000, droppedQueueFull: 7 });
    expect(summary.timeToFirstEventMs).toEqual({ avg: 12.4, p95: 40.2, max: 90, count: 52 });
    const text = summaryText(summary);
    expect(text).toMatch(/^SSE load test \(k6\) run lt-abc: PASSED/);
    expect(text).toMatch(/published updates\s+3000/);
    expect(text).toMatch(/p95 40 ms/);
  });

  it('fails when a verdict failed, or when teardown never judged', () => {
    const failed = summaryFromK6(k6Data((rule) => (rule === 'drops_accounted' ? 0 : 1)));
    expect(passed(failed)).toBe(false);
    expect(summaryText(failed)).toMatch(/FAIL drops_accounted/);
    const unjudged = summaryFromK6(k6Data(() => undefined));
    expect(passed(unjudged)).toBe(false);
    expect(unjudged.verdicts[0]?.detail).toMatch(/not judged/);
  });

  it('computes timings and the checks k6 makes with thresholds', () => {
    expect(timingOf([])).toBeNull();
    expect(timingOf(Array.from({ length: 20 }, (_, n) => n + 1))).toEqual({ avg: 10.5, p95: 19, max: 20, count: 20 });
    const ok = runnerChecks({
      publishFailures: 0,
      streamErrors: 0,
      timeToFirstEventMs: timingOf([10, 20]),
      ttfeP95Ms: 100,
    });
    expect(ok.every((check) => check.ok)).toBe(true);
    const bad = runnerChecks({
      publishFailures: 1,
      streamErrors: 2,
      timeToFirstEventMs: timingOf([500]),
      ttfeP95Ms: 100,
    });
    expect(bad.filter((check) => !check.ok).map((check) => check.rule)).toEqual([
      'no_publish_failures',
      'no_stream_errors',
      'time_to_first_event',
    ]);
  });
});
