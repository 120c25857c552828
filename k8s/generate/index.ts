// Regenerates the committed files under k8s/ that come from elsewhere in the repository
// (see bundle.ts for why they cannot be plain kustomize references):
//   k8s/base/monitoring/generated/  from alerts/generated/ and dashboards/generated/
//   k8s/loadtest/generated/         from loadtest/sse.js and the modules it imports
// Run: npm run generate:k8s (after regenerating alerts and dashboards).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LOADTEST_DIR, MONITORING_DIR, SOURCES, loadtestFiles, monitoringFiles, type MonitoringSources } from './bundle.ts';
import { K6_FILES } from '../../loadtest/k6-files.ts';

export const repoRoot = resolve(import.meta.dirname, '..', '..');

export function readMonitoringSources(root = repoRoot): MonitoringSources | undefined {
  const alerts = join(root, SOURCES.alerts);
  const dashboardsDir = join(root, SOURCES.dashboards);
  if (!existsSync(alerts) || !existsSync(dashboardsDir)) return undefined;
  const dashboards = new Map<string, string>();
  for (const file of readdirSync(dashboardsDir).filter((name) => name.endsWith('.json'))) {
    dashboards.set(file, readFileSync(join(dashboardsDir, file), 'utf8'));
  }
  if (dashboards.size === 0) return undefined;
  return { alertsYaml: readFileSync(alerts, 'utf8'), dashboards };
}

/** loadtest/sse.js and the modules it imports, by file name; undefined without the script. */
export function readLoadtestScripts(root = repoRoot): Map<string, string> | undefined {
  if (!existsSync(join(root, SOURCES.loadtest))) return undefined;
  const dir = dirname(join(root, SOURCES.loadtest));
  return new Map(K6_FILES.map((file) => [file, readFileSync(join(dir, file), 'utf8')]));
}

/** Every generated file that the current sources produce, by path relative to the repository. */
export function expectedFiles(root = repoRoot): { files: Map<string, string>; missing: string[] } {
  const files = new Map<string, string>();
  const missing: string[] = [];
  const monitoring = readMonitoringSources(root);
  if (monitoring === undefined) missing.push(`${SOURCES.alerts} + ${SOURCES.dashboards}/*.json`);
  else for (const [path, text] of monitoringFiles(monitoring)) files.set(`${MONITORING_DIR}/${path}`, text);
  const scripts = readLoadtestScripts(root);
  if (scripts === undefined) missing.push(SOURCES.loadtest);
  else for (const [path, text] of loadtestFiles(scripts)) files.set(`${LOADTEST_DIR}/${path}`, text);
  return { files, missing };
}

function writeAll(root: string): void {
  const { files, missing } = expectedFiles(root);
  for (const dir of [MONITORING_DIR, LOADTEST_DIR]) {
    // Start clean so a dashboard removed from the sources leaves no stale ConfigMap behind.
    if ([...files.keys()].some((path) => path.startsWith(`${dir}/`))) rmSync(join(root, dir), { recursive: true, force: true });
  }
  for (const [path, text] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
    console.log(`wrote ${path}`);
  }
  for (const source of missing) console.warn(`skipped: ${source} not found`);
  if (files.size === 0) process.exitCode = 1;
}

if (import.meta.main) writeAll(repoRoot);
