// Renders the alert rules and their promtool tests to the committed YAML files.
// Run `npm run generate:monitoring` after changing rules.ts, promtool-tests.ts or a threshold.
import { writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { stringify } from 'yaml';
import { promtoolTestFile } from './promtool-tests.ts';
import { ruleGroups } from './rules.ts';

export interface GeneratedFile {
  /** Path relative to the repository root. */
  readonly path: string;
  readonly content: string;
}

export const rulesPath = 'alerts/generated/realtime-alerts.yaml';
export const promtoolTestsPath = 'alerts/promtool/realtime-alerts.test.yaml';

const header = (source: string) =>
  `# Generated from ${source} by \`npm run generate:monitoring\`. Do not edit by hand.\n`;

const yaml = (value: unknown) => stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });

export function alertFiles(): GeneratedFile[] {
  const ruleFileFromTests = relative(dirname(promtoolTestsPath), rulesPath);
  return [
    { path: rulesPath, content: header('alerts/rules.ts') + yaml({ groups: ruleGroups }) },
    { path: promtoolTestsPath, content: header('alerts/promtool-tests.ts') + yaml(promtoolTestFile(ruleFileFromTests)) },
  ];
}

export function writeGenerated(files: readonly GeneratedFile[], root: string): void {
  for (const file of files) writeFileSync(join(root, file.path), file.content);
}

if (import.meta.main) {
  writeGenerated(alertFiles(), join(import.meta.dirname, '..'));
}
