// The generated parts of k8s/ (PrometheusRule, dashboard ConfigMaps, the k6 script) match
// their sources, and the monitoring component wires them up the way kube-prometheus-stack
// and Grafana's dashboard sidecar look for them.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LOADTEST_DIR, MONITORING_DIR, REGENERATE_COMMAND, dashboardConfigMapName, monitoringFiles, prometheusRule } from '../generate/bundle.ts';
import { expectedFiles } from '../generate/index.ts';
import { named, ofKind } from './manifests.ts';
import { repoRoot, workspace } from './render.ts';

const alertsYaml = `# a rule file as promtool reads it
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
`;
const dashboard = (uid: string) => JSON.stringify({ uid, title: `Realtime ${uid}`, panels: [] }, null, 2);

describe('the PrometheusRule built from alerts/generated', () => {
  it('carries the rule groups unchanged, templates and quoting included', () => {
    const rule = parse(prometheusRule(alertsYaml)) as { kind: string; spec: unknown; metadata: { labels: Record<string, string> } };
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.spec).toEqual(parse(alertsYaml));
    expect(rule.metadata.labels.release).toBe('kube-prometheus-stack');
  });

  it('refuses a file without rule groups or with an empty group', () => {
    expect(() => prometheusRule('groups: []\n')).toThrow(/no rule groups/);
    expect(() => prometheusRule('groups:\n  - name: empty\n    rules: []\n')).toThrow(/at least one rule/);
  });

  it('refuses JSON that is not a dashboard, and a dashboard too large for kubectl apply', () => {
    expect(() => monitoringFiles({ alertsYaml, dashboards: new Map([['x.json', '{"panels":[]}']]) })).toThrow(/not a Grafana dashboard/);
    const huge = JSON.stringify({ uid: 'u', title: 't', padding: 'x'.repeat(300 * 1024) });
    expect(() => monitoringFiles({ alertsYaml, dashboards: new Map([['huge.json', huge]]) })).toThrow(/kubectl apply could not store it/);
  });
});

describe('the monitoring component with generated files in place', () => {
  const ws = workspace();
  afterAll(() => ws.dispose());
  const generatedDir = join(ws.dir, relative('k8s', MONITORING_DIR));
  rmSync(generatedDir, { recursive: true, force: true });
  for (const [path, text] of monitoringFiles({ alertsYaml, dashboards: new Map([['realtime-oncall.json', dashboard('oncall')], ['realtime-capacity.json', dashboard('capacity')]]) })) {
    mkdirSync(dirname(join(generatedDir, path)), { recursive: true });
    writeFileSync(join(generatedDir, path), text);
  }
  const objects = ws.render('overlays/production');

  it('renders one ConfigMap per dashboard, labelled for the Grafana sidecar, under a stable name', () => {
    const dashboards = ofKind(objects, 'ConfigMap').filter((cm) => cm.metadata.labels?.grafana_dashboard === '1');
    expect(dashboards.map((cm) => cm.metadata.name).sort()).toEqual([dashboardConfigMapName('realtime-capacity.json'), dashboardConfigMapName('realtime-oncall.json')]);
    const oncall = named(objects, 'ConfigMap', 'trayb-realtime-dashboard-realtime-oncall');
    expect(JSON.parse((oncall.data as Record<string, string>)['realtime-oncall.json'] ?? '')).toMatchObject({ uid: 'oncall' });
    expect(oncall.metadata.namespace).toBe('trayb-realtime');
  });

  it('renders the PrometheusRule into the stack’s namespace', () => {
    const rule = named(objects, 'PrometheusRule', 'trayb-realtime');
    expect(rule.metadata.namespace).toBe('trayb-realtime');
    expect((rule.spec as { groups: unknown[] }).groups).toHaveLength(2);
  });
});

describe('the committed generated files', () => {
  const { files, missing } = expectedFiles(repoRoot);
  const stale = `stale: run \`${REGENERATE_COMMAND}\` and commit the result`;

  function filesUnder(dir: string): string[] {
    const absolute = join(repoRoot, dir);
    if (!existsSync(absolute)) return [];
    return readdirSync(absolute, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(repoRoot, join(entry.parentPath, entry.name)));
  }

  it.skipIf(missing.length > 0 && files.size === 0)(`match their sources${missing.length > 0 ? ` (sources not on this branch: ${missing.join('; ')})` : ''}`, () => {
    for (const [path, text] of files) {
      expect(existsSync(join(repoRoot, path)), `${path} missing; ${stale}`).toBe(true);
      expect(readFileSync(join(repoRoot, path), 'utf8'), `${path} ${stale}`).toBe(text);
    }
    for (const dir of [MONITORING_DIR, LOADTEST_DIR]) {
      if (![...files.keys()].some((path) => path.startsWith(`${dir}/`))) continue;
      expect(filesUnder(dir).filter((path) => !files.has(path)), `left over in ${dir}; ${stale}`).toEqual([]);
    }
  });
});
