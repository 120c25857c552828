// The manifests kustomize cannot derive by itself, computed from files outside k8s/:
// kustomize only reads files below the kustomization that names them, and it cannot put a
// YAML document into a custom resource's spec. So the monitoring component's PrometheusRule
// (from alerts/generated), its dashboard ConfigMaps (from dashboards/generated) and the
// load test's script (from loadtest/) are generated here and committed; a test fails when
// they drift from their sources. Pure: sources in, files out.
import { parse, stringify } from 'yaml';

export const REGENERATE_COMMAND = 'npm run generate:k8s';

/** Where each generated file lives, relative to the repository root. */
export const MONITORING_DIR = 'k8s/base/monitoring/generated';
export const LOADTEST_DIR = 'k8s/loadtest/generated';

export const SOURCES = {
  alerts: 'alerts/generated/realtime-alerts.yaml',
  dashboards: 'dashboards/generated',
  loadtest: 'loadtest/sse.js',
} as const;

/**
 * `kubectl apply` (client-side) copies each object into an annotation, which the API server
 * caps at 256 KiB; a dashboard ConfigMap above that would fail to apply.
 */
export const MAX_DASHBOARD_BYTES = 200 * 1024;

export interface MonitoringSources {
  /** Prometheus rule file text (`groups:`), as promtool tests it. */
  readonly alertsYaml: string;
  /** Dashboard JSON by file name (`realtime-oncall.json`). */
  readonly dashboards: ReadonlyMap<string, string>;
}

const header = (source: string) => `# Generated from ${source} by \`${REGENERATE_COMMAND}\`. Do not edit by hand.\n`;

interface RuleGroup {
  name: string;
  rules: unknown[];
}

function ruleGroups(alertsYaml: string): RuleGroup[] {
  const document: unknown = parse(alertsYaml);
  const groups = (document as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(groups) || groups.length === 0) throw new Error(`${SOURCES.alerts} has no rule groups`);
  for (const group of groups as unknown[]) {
    const { name, rules } = (group ?? {}) as Partial<RuleGroup>;
    if (typeof name !== 'string' || !Array.isArray(rules) || rules.length === 0) {
      throw new Error(`${SOURCES.alerts}: every group needs a name and at least one rule`);
    }
  }
  return groups as RuleGroup[];
}

/** The rule file's groups, unchanged, as the spec of a Prometheus Operator PrometheusRule. */
export function prometheusRule(alertsYaml: string): string {
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
    spec: { groups: ruleGroups(alertsYaml) },
  };
  return header(SOURCES.alerts) + stringify(rule, { lineWidth: 0 });
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
  return header(`${SOURCES.alerts} and ${SOURCES.dashboards}/`) + stringify(kustomization, { lineWidth: 0 });
}

/** Files of the monitoring component's generated/ folder, by path relative to it. */
export function monitoringFiles(sources: MonitoringSources): Map<string, string> {
  const files = [...sources.dashboards.keys()].filter((file) => file.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`${SOURCES.dashboards}/ holds no dashboard JSON`);
  const out = new Map<string, string>();
  out.set('prometheusrule.yaml', prometheusRule(sources.alertsYaml));
  out.set('kustomization.yaml', dashboardsKustomization(files));
  for (const file of files) {
    const text = sources.dashboards.get(file) ?? '';
    const dashboard = JSON.parse(text) as { uid?: unknown; title?: unknown };
    if (typeof dashboard.uid !== 'string' || typeof dashboard.title !== 'string') {
      throw new Error(`${SOURCES.dashboards}/${file} is not a Grafana dashboard (no uid or title)`);
    }
    if (Buffer.byteLength(text) > MAX_DASHBOARD_BYTES) {
      throw new Error(`${SOURCES.dashboards}/${file} is over ${MAX_DASHBOARD_BYTES} bytes: kubectl apply could not store it`);
    }
    out.set(`dashboards/${file}`, text);
  }
  return out;
}

/**
 * Files of the load test's generated/ folder: the k6 script and the modules it imports
 * (loadtest/k6-files.ts lists them), byte for byte, side by side as the script imports them.
 */
export function loadtestFiles(scripts: ReadonlyMap<string, string>): Map<string, string> {
  return new Map(scripts);
}
