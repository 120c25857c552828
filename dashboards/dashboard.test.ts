import { describe, expect, it } from 'vitest';
import { controllerMetrics, serviceMetrics, thresholds } from '#contract';
import { realtimeOncallDashboard } from './index.ts';
import { metricNamesIn, panelQueries, panelsOf, toPromQL, variableQueries } from './queries.ts';

const rendered = JSON.parse(JSON.stringify(realtimeOncallDashboard())) as unknown;
const panels = panelsOf(rendered);
const known = new Set<string>([
  ...Object.values(serviceMetrics),
  ...Object.values(controllerMetrics),
  `${serviceMetrics.deliveryLatency}_bucket`,
]);

const drawnLevels = (title: string): number[] => {
  const panel = panels.find((p) => p.title === title) as {
    fieldConfig?: { defaults?: { thresholds?: { steps?: { value: number | null }[] } } };
  };
  expect(panel, `panel "${title}"`).toBeDefined();
  return (panel.fieldConfig?.defaults?.thresholds?.steps ?? []).flatMap((s) => (s.value === null ? [] : [s.value]));
};

describe('the on-call dashboard', () => {
  it('tells the on-call on every panel what it shows and what to do', () => {
    expect(panels.length).toBeGreaterThan(20);
    for (const panel of panels) {
      expect(panel.description?.length ?? 0, `panel "${panel.title}" needs a description`).toBeGreaterThan(80);
    }
  });

  it('queries only metrics named in the contract', () => {
    for (const { panel, expr } of panelQueries(rendered)) {
      const names = metricNamesIn(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(known.has(name), `${panel}: unknown metric ${name}`).toBe(true);
    }
  });

  it('filters every series by the namespace variable, and service series by instance too', () => {
    // Stream-wide figures add up every instance's publishing, whatever instances are selected.
    const streamWide = new Set(['Replay window (estimated)']);
    for (const { panel, expr } of panelQueries(rendered)) {
      for (const selector of expr.matchAll(/([a-z_:]+)\{([^}]*)\}/g)) {
        expect(selector[2], `${panel}: ${selector[0]}`).toContain('namespace=~"$namespace"');
        if (!streamWide.has(panel) && Object.values(serviceMetrics).some((name) => selector[1]?.startsWith(name))) {
          expect(selector[2], `${panel}: ${selector[0]}`).toContain('instance=~"$instance"');
        }
      }
    }
  });

  it('offers datasource, namespace and instance variables built on exported series', () => {
    const list = (rendered as { templating: { list: { name: string }[] } }).templating.list.map((v) => v.name);
    expect(list).toEqual(['datasource', 'namespace', 'instance']);
    for (const v of variableQueries(rendered)) {
      expect(known.has(v.selector.split('{')[0] ?? ''), `variable ${v.variable}: ${v.selector}`).toBe(true);
    }
  });

  it('draws the alert thresholds from the contract', () => {
    expect(drawnLevels('Dropped events / min')).toEqual([thresholds.droppedEventsPerMinute]);
    expect(drawnLevels('Pending entries per group')).toEqual([
      thresholds.pendingWarningEntries,
      thresholds.pendingEntries,
    ]);
    expect(drawnLevels('Oldest pending entry age')).toEqual([thresholds.oldestPendingAgeSeconds]);
    expect(drawnLevels('Lag per group')).toEqual([thresholds.laggingEntries]);
    expect(drawnLevels('Replay window (estimated)')).toEqual([thresholds.minReplayWindowSeconds]);
    expect(drawnLevels('Delivery latency p50 / p99')).toEqual([thresholds.deliveryLatencyP99Seconds]);
  });

  it('shows stream length and MAXLEN on one panel', () => {
    const exprs = panelQueries(rendered)
      .filter((q) => q.panel === 'Stream length against MAXLEN')
      .map((q) => q.expr);
    expect(exprs.some((e) => e.includes(controllerMetrics.streamLength))).toBe(true);
    expect(exprs.some((e) => e.includes(controllerMetrics.streamMaxLen))).toBe(true);
  });
});

describe('turning dashboard queries into PromQL', () => {
  it('replaces the variables as an "All" selection and a fixed rate window would', () => {
    expect(toPromQL('rate(x{namespace=~"$namespace", instance=~"$instance"}[$__rate_interval])', '30s')).toBe(
      'rate(x{namespace=~".*", instance=~".*"}[30s])',
    );
  });
});
