// The manifests kustomize cannot derive by itself, computed from files outside k8s/:
// kustomize only reads files below the kustomization that names them, and it cannot put a
// YAML document into a custom resource's spec. So the monitoring component's PrometheusRule
// (from alerts/generated), its dashboard ConfigMaps (from dashboards/generated) and the
// load test's script (from loadtest/) are generated here and committed (index.ts lists
// every generated file). Pure: sources in, files out.
import { basename, dirname } from 'node:path';
import { parse, stringify } from 'yaml';
import type { GeneratedFile } from './generated-file.ts';

/** Where the bundle's generated files live, relative to the repository root. */
export const MONITORING_DIR = 'k8s/base/monitoring/generated';
export const LOADTEST_DIR = 'k8s/loadtest/generated';

/** A file the bundle copies or converts, by its path relative to the repository root. */
export interface SourceFile {
  readonly path: string;
  readonly content: string;
}

/**
 * `kubectl apply` (client-side) copies each object into an annotation, which the API server
 * caps at 256 KiB; a dashboard ConfigMap above that would fail to apply.
 */
export const MAX_DASHBOARD_BYTES = 200 * 1024;

export interface MonitoringSources {
  /** The Prometheus rule file (`groups:`), as promtool tests it. */
  readonly alerts: SourceFile;
  /** The dashboards' JSON files. */
  readonly dashboards: readonly SourceFile[];
}

interface RuleGroup {
  name: string;
  rules: unknown[];
}

function ruleGroups(alerts: SourceFile): RuleGroup[] {
  const document: unknown = parse(alerts.content);
  const groups = (document as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(groups) || groups.length === 0) throw new Error(`${alerts.path} has no rule groups`);
  for (const group of groups as unknown[]) {
    const { name, rules } = (group ?? {}) as Partial<RuleGroup>;
    if (typeof name !== 'string' || !Array.isArray(rules) || rules.length === 0) {
      throw new Error(`${alerts.path}: every group needs a name and at least one rule`);
    }
  }
  return groups as RuleGroup[];
}

/** The rule file's groups, unchanged, as the spec of a Prometheus Operator PrometheusRule. */
export function prometheusRule(alerts: SourceFile): string {
  const rule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'trayb-realtime',
      labels: {
        'app.kubernetes.io/name': 'trayb-realtime',
        // kube-prometheus-stack's Prometheus picks rules by its Helm release name.
        release: 'kube-prometheus-stack',
      },
    },
    spec: { groups: ruleGroups(alerts) },
  };
  return stringify(rule, { lineWidth: 0 });
}

export function dashboardConfigMapName(file: string): string {
  return `trayb-realtime-dashboard-${file.replace(/\.json$/, '')}`;
}

function dashboardsKustomization(files: readonly string[]): string {
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: ['prometheusrule.yaml'],
    generatorOptions: {
      // A stable name: Grafana's sidecar loads every labelled ConfigMap, so hashed names
      // would leave the old copy of a dashboard behind after each change.
      disableNameSuffixHash: true,
      labels: { grafana_dashboard: '1' },
      annotations: { grafana_folder: 'trayb-realtime' },
    },
    configMapGenerator: files.map((file) => ({ name: dashboardConfigMapName(file), files: [`dashboards/${file}`] })),
  };
  return stringify(kustomization, { lineWidth: 0 });
}

/** The monitoring component's generated/ folder: the PrometheusRule, its kustomization and a copy of each dashboard. */
export function monitoringFiles(sources: MonitoringSources): GeneratedFile[] {
  const dashboards = [...sources.dashboards].sort((a, b) => a.path.localeCompare(b.path));
  const first = dashboards[0];
  if (first === undefined) throw new Error('no dashboard to put into the monitoring component');
  const out: GeneratedFile[] = [
    {
      path: `${MONITORING_DIR}/prometheusrule.yaml`,
      source: sources.alerts.path,
      content: prometheusRule(sources.alerts),
    },
    {
      path: `${MONITORING_DIR}/kustomization.yaml`,
      source: dirname(first.path),
      content: dashboardsKustomization(dashboards.map((file) => basename(file.path))),
    },
  ];
  for (const file of dashboards) {
    const dashboard = JSON.parse(file.content) as { uid?: unknown; title?: unknown };
    if (typeof dashboard.uid !== 'string' || typeof dashboard.title !== 'string') {
      throw new Error(`${file.path} is not a Grafana dashboard (no uid or title)`);
    }
    if (Buffer.byteLength(file.content) > MAX_DASHBOARD_BYTES) {
      throw new Error(`${file.path} is over ${MAX_DASHBOARD_BYTES} bytes: kubectl apply could not store it`);
    }
    out.push({ path: `${MONITORING_DIR}/dashboards/${basename(file.path)}`, source: file.path, content: file.content });
  }
  return out;
}

/**
 * The load test's generated/ folder: the k6 script and the modules it imports
 * (loadtest/k6-files.ts lists them), side by side as the script imports them.
 */
export function loadtestFiles(scripts: readonly SourceFile[]): GeneratedFile[] {
  return scripts.map((file) => ({
    path: `${LOADTEST_DIR}/${basename(file.path)}`,
    source: file.path,
    content: file.content,
  }));
}
