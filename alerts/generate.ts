// Renders the alert rules and their promtool tests to the YAML files the repository commits
// (`npm run generate` writes them, with the header that marks them as generated).
import { dirname, relative } from 'node:path';
import { stringify } from 'yaml';
import { promtoolTestFile } from './promtool-tests.ts';
import { ruleGroups } from './rules.ts';

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

export function alertFiles(): GeneratedFile[] {
  const ruleFileFromTests = relative(dirname(promtoolTestsPath), rulesPath);
  return [
    { path: rulesPath, source: 'alerts/rules.ts', content: yaml({ groups: ruleGroups }) },
    { path: promtoolTestsPath, source: 'alerts/promtool-tests.ts', content: yaml(promtoolTestFile(ruleFileFromTests)) },
  ];
}
