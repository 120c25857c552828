import { describe, expect, it } from 'vitest';
import { controllerMetrics, serviceMetrics, thresholds } from '#contract';
import { realtimeOncallDashboard } from './index.ts';
import { ruleGroups } from '../alerts/rules.ts';
import { annotationQueries, metricNamesIn, panelQueries, panelsOf, toPromQL, variableQueries } from './queries.ts';

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

  it('scopes every series by its job and the namespace variable, and service series by instance too', () => {
    // Stream-wide figures add up every instance's publishing, whatever instances are selected.
    const streamWide = new Set(['Replay window (estimated)']);
    const exprs = [
      ...panelQueries(rendered),
      ...annotationQueries(rendered).map((a) => ({ panel: `annotation ${a.name}`, expr: a.expr })),
    ];
    for (const { panel, expr } of exprs) {
      for (const selector of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)) {
        const isService = Object.values(serviceMetrics).some((name) => selector[1]?.startsWith(name));
        expect(selector[2], `${panel}: ${selector[0]}`).toContain('namespace=~"$namespace"');
        expect(selector[2], `${panel}: ${selector[0]}`).toContain(isService ? 'job=~"$job"' : 'job=~"$controller_job"');
        if (!streamWide.has(panel) && isService) {
          expect(selector[2], `${panel}: ${selector[0]}`).toContain('instance=~"$instance"');
        }
      }
    }
  });

  it('offers job variables whose "All" is the jobs exporting the path\'s metrics, not every target', () => {
    const list = (rendered as { templating: { list: { name: string; allValue?: string }[] } }).templating.list;
    expect(list.map((v) => v.name)).toEqual(['datasource', 'job', 'controller_job', 'namespace', 'instance']);
    for (const name of ['job', 'controller_job']) expect(list.find((v) => v.name === name)?.allValue).toBeUndefined();
    for (const v of variableQueries(rendered)) {
      expect(known.has(v.selector.split('{')[0] ?? ''), `variable ${v.variable}: ${v.selector}`).toBe(true);
    }
  });

  it('links every alert-backed panel to the runbook of its alert, and every alert from some panel', () => {
    const urls = new Set(ruleGroups.flatMap((g) => g.rules.map((r) => r.annotations.runbook_url)));
    const linked = new Set<string>();
    for (const panel of panels as { title?: string; description?: string; links?: { url: string }[] }[]) {
      const links = (panel.links ?? []).map((l) => l.url);
      for (const url of links) expect(urls.has(url), `${panel.title}: ${url}`).toBe(true);
      links.forEach((url) => linked.add(url));
      for (const rule of ruleGroups.flatMap((g) => g.rules))
        if (panel.description?.includes(rule.alert))
          expect(links, `${panel.title} names ${rule.alert}`).toContain(rule.annotations.runbook_url);
    }
    expect([...linked].sort()).toEqual([...urls].sort());
  });

  it('marks each remediation as an annotation', () => {
    const annotations = annotationQueries(rendered);
    expect(annotations.map((a) => a.name)).toEqual(['Remediations']);
    expect(metricNamesIn(annotations[0]?.expr ?? '')).toEqual([controllerMetrics.remediations]);
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
    expect(
      toPromQL('rate(x{job=~"$job", namespace=~"$namespace", instance=~"$instance"}[$__rate_interval])', '30s', {
        job: 'svc',
        controller_job: 'ctl',
      }),
    ).toBe('rate(x{job=~"svc", namespace=~".*", instance=~".*"}[30s])');
    expect(toPromQL('y{job=~"$controller_job"}', '1m', { job: 'svc', controller_job: 'ctl' })).toBe('y{job=~"ctl"}');
  });
});
