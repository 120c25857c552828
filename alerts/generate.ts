// Renders the alert rules and their promtool tests to the YAML files the repository commits
// (`npm run generate` writes them, with the header that marks them as generated).
import { dirname, relative } from 'node:path';
import { stringify } from 'yaml';
import { alertConfig, type AlertConfig } from './config.ts';
import { promtoolTestFile } from './promtool-tests.ts';
import { alertRuleGroups } from './rules.ts';

export interface GeneratedFile {
  /** Path relative to the repository root. */
  readonly path: string;
  /** The file it is rendered from. */
  readonly source: string;
  readonly content: string;
}

export const rulesPath = 'alerts/generated/realtime-alerts.yaml';
export const promtoolTestsPath = 'alerts/promtool/realtime-alerts.test.yaml';

const yaml = (value: unknown) => stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });

/** The rule file for `config`: the bundle's by default, or a test's with its own jobs and durations. */
export function rulesYaml(config: AlertConfig = alertConfig): string {
  return yaml({ groups: alertRuleGroups(config) });
}

export function alertFiles(): GeneratedFile[] {
  const ruleFileFromTests = relative(dirname(promtoolTestsPath), rulesPath);
  return [
    { path: rulesPath, source: 'alerts/rules.ts', content: rulesYaml() },
    { path: promtoolTestsPath, source: 'alerts/promtool-tests.ts', content: yaml(promtoolTestFile(ruleFileFromTests)) },
  ];
}
