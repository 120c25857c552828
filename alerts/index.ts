// Owns the Prometheus alert rules of the realtime path (rules.ts), the promtool unit tests
// that prove each alert fires on bad series and stays quiet on healthy ones
// (promtool-tests.ts), the jobs and durations a deployment renders them with (config.ts;
// tests that need alerts in seconds render the same rules with shorter durations), and
// their rendering to the committed YAML (generate.ts).
export { alertConfig, type AlertConfig } from './config.ts';
export {
  alertRuleGroups,
  ruleGroups,
  runbooks,
  runbookBaseUrl,
  type AlertRule,
  type RuleGroup,
  type Severity,
} from './rules.ts';
export { alertFiles, rulesPath, rulesYaml, promtoolTestsPath, type GeneratedFile } from './generate.ts';
