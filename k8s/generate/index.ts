// `npm run generate`: every file in the repository that is derived from code, in the order
// they depend on each other. First what comes straight from TypeScript: the CRD (from the
// controller's policy schema), the Redis ACL (from the users in service/src/redis/acl.ts), the alert rules with their promtool tests, the dashboard.
// Then the bundle's copies of those (the monitoring component) and of the k6 script with its
// modules (the load test). Each carries a header naming its source and this command
// (generated-file.ts); k8s/test/generated.test.ts fails, naming the command, when a
// committed one differs from what its source produces now.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { alertFiles, rulesPath } from '../../alerts/generate.ts';
import { dashboardFiles } from '../../dashboards/generate.ts';
import { K6_FILES } from '../../loadtest/k6-files.ts';
import { CRD_PATH, policyCrdYaml } from '../../service/src/controller/crd.ts';
import { LOADTEST_DIR, MONITORING_DIR, loadtestFiles, monitoringFiles } from './bundle.ts';
import { GENERATE_COMMAND, headerlessNotes, stamped, type GeneratedFile } from './generated-file.ts';
import { redisAclFile } from './redis-acl.ts';

export const repoRoot = resolve(import.meta.dirname, '..', '..');

/**
 * Folders that hold generated files only. The generator empties them first, so a file whose
 * source went away goes too; the freshness test flags anything else found in them. The CRD
 * and the Redis ACL are the generated files that live beside hand-written ones (k8s/base/crd/,
 * k8s/base/redis/).
 */
export const GENERATED_DIRS = [
  'alerts/generated',
  'alerts/promtool',
  'dashboards/generated',
  MONITORING_DIR,
  LOADTEST_DIR,
] as const;

/** Every generated file with its committed text, by path relative to the repository root. */
export function generatedFiles(root = repoRoot): { path: string; content: string }[] {
  const crd: GeneratedFile = { path: CRD_PATH, source: 'service/src/controller/policy.ts', content: policyCrdYaml() };
  const alerts = alertFiles();
  const dashboards = dashboardFiles();
  const rules = alerts.find((file) => file.path === rulesPath);
  if (rules === undefined) throw new Error(`alerts/generate.ts no longer renders ${rulesPath}`);
  const monitoring = monitoringFiles({ alerts: rules, dashboards });
  const loadtest = loadtestFiles(
    K6_FILES.map((file) => ({ path: `loadtest/${file}`, content: readFileSync(join(root, 'loadtest', file), 'utf8') })),
  );
  const acl = redisAclFile(readFileSync(join(root, 'k8s/base/stream.env'), 'utf8'));
  const files = [crd, acl, ...alerts, ...dashboards, ...monitoring, ...loadtest];
  // A header naming a file that is not there would send its reader nowhere.
  for (const file of files) {
    if (!existsSync(join(root, file.source)))
      throw new Error(`${file.path} names its source ${file.source}, which does not exist`);
  }
  return [...files.map((file) => ({ path: file.path, content: stamped(file) })), ...headerlessNotes(files)];
}

function writeAll(root: string): void {
  const files = generatedFiles(root);
  for (const dir of GENERATED_DIRS) rmSync(join(root, dir), { recursive: true, force: true });
  for (const file of files) {
    mkdirSync(dirname(join(root, file.path)), { recursive: true });
    writeFileSync(join(root, file.path), file.content);
  }
  console.log(`${GENERATE_COMMAND}: wrote ${files.length} files`);
}

if (import.meta.main) writeAll(repoRoot);
