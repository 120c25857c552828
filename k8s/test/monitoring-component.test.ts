// The monitoring component's generated part (k8s/generate/bundle.ts): the PrometheusRule
// carries the rule file unchanged, bad input is refused, and the component wires the files
// up the way kube-prometheus-stack and Grafana's dashboard sidecar look for them.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MONITORING_DIR, dashboardConfigMapName, monitoringFiles, prometheusRule } from '../generate/bundle.ts';
import { named, ofKind } from './manifests.ts';
import { workspace } from './render.ts';

const alerts = {
  path: 'alerts/generated/realtime-alerts.yaml',
  content: `# a rule file as promtool reads it
groups:
  - name: realtime-stream-consumers
    rules:
      - alert: StreamConsumerStuck
        expr: max by (namespace, group) (realtime_stream_group_pending) > 500
        for: 2m
        labels:
          severity: critical
        annotations:
          description: "Group {{ $labels.group }} has {{ $value | printf \\"%.0f\\" }} pending: it: reads"
  - name: realtime-delivery
    rules:
      - record: namespace:sse_events_dropped:rate5m
        expr: sum by (namespace) (rate(sse_events_dropped_total[5m]))
`,
};
const dashboard = (uid: string) => ({
  path: `dashboards/generated/realtime-${uid}.json`,
  content: JSON.stringify({ uid, title: `Realtime ${uid}`, panels: [] }, null, 2),
});

describe('the PrometheusRule built from alerts/generated', () => {
  it('carries the rule groups unchanged, templates and quoting included', () => {
    const rule = parse(prometheusRule(alerts)) as {
      kind: string;
      spec: unknown;
      metadata: { labels: Record<string, string> };
    };
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.spec).toEqual(parse(alerts.content));
    expect(rule.metadata.labels.release).toBe('kube-prometheus-stack');
  });

  it('refuses a file without rule groups or with an empty group', () => {
    expect(() => prometheusRule({ path: 'rules.yaml', content: 'groups: []\n' })).toThrow(
      /rules.yaml has no rule groups/,
    );
    expect(() => prometheusRule({ path: 'rules.yaml', content: 'groups:\n  - name: empty\n    rules: []\n' })).toThrow(
      /at least one rule/,
    );
  });

  it('refuses JSON that is not a dashboard, and a dashboard too large for kubectl apply', () => {
    expect(() => monitoringFiles({ alerts, dashboards: [{ path: 'x.json', content: '{"panels":[]}' }] })).toThrow(
      /x.json is not a Grafana dashboard/,
    );
    const huge = JSON.stringify({ uid: 'u', title: 't', padding: 'x'.repeat(300 * 1024) });
    expect(() => monitoringFiles({ alerts, dashboards: [{ path: 'huge.json', content: huge }] })).toThrow(
      /kubectl apply could not store it/,
    );
  });
});

describe('the monitoring component with generated files in place', () => {
  const ws = workspace();
  afterAll(() => ws.dispose());
  rmSync(join(ws.dir, relative('k8s', MONITORING_DIR)), { recursive: true, force: true });
  for (const file of monitoringFiles({ alerts, dashboards: [dashboard('oncall'), dashboard('capacity')] })) {
    const path = join(ws.dir, relative('k8s', file.path));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
  }
  const objects = ws.render('overlays/production');

  it('renders one ConfigMap per dashboard, labelled for the Grafana sidecar, under a stable name', () => {
    const dashboards = ofKind(objects, 'ConfigMap').filter((cm) => cm.metadata.labels?.grafana_dashboard === '1');
    expect(dashboards.map((cm) => cm.metadata.name).sort()).toEqual([
      dashboardConfigMapName('realtime-capacity.json'),
      dashboardConfigMapName('realtime-oncall.json'),
    ]);
    const oncall = named(objects, 'ConfigMap', 'trayb-realtime-dashboard-realtime-oncall');
    expect(JSON.parse((oncall.data as Record<string, string>)['realtime-oncall.json'] ?? '')).toMatchObject({
      uid: 'oncall',
    });
    expect(oncall.metadata.namespace).toBe('trayb-realtime');
  });

  it('renders the PrometheusRule into the stack’s namespace', () => {
    const rule = named(objects, 'PrometheusRule', 'trayb-realtime');
    expect(rule.metadata.namespace).toBe('trayb-realtime');
    expect((rule.spec as { groups: unknown[] }).groups).toHaveLength(2);
  });
});
