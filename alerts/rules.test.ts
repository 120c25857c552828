import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alertConfig, type AlertConfig } from './config.ts';
import { promtoolTestsPath, rulesPath, rulesYaml } from './generate.ts';
import { promtool } from './promtool.ts';
import { expandTemplate, type PromtoolTest } from './promtool-tests.ts';
import { alertRuleGroups, ruleGroups, runbookBaseUrl } from './rules.ts';

const root = join(import.meta.dirname, '..');
const alertNames = [...new Set(ruleGroups.flatMap((g) => g.rules.map((r) => r.alert)))];

describe('the generated alert rules', () => {
  it('pass `promtool check rules`, duplicate-rule lint included', () => {
    const run = promtool(['check', 'rules', '--lint=all', '--lint-fatal', rulesPath], root);
    expect(run.output).toContain(`SUCCESS: ${ruleGroups.flatMap((g) => g.rules).length} rules found`);
    expect(run.ok, run.output).toBe(true);
  });

  it('pass every `promtool test rules` case: each alert fires on bad series and stays silent on healthy ones', () => {
    const run = promtool(['test', 'rules', promtoolTestsPath], root);
    expect(run.ok, run.output).toBe(true);
  });

  it('have a promtool case that fires and one that stays silent for every alert', () => {
    const file = parse(readFileSync(join(root, promtoolTestsPath), 'utf8')) as { tests: PromtoolTest[] };
    const checks = file.tests.flatMap((test) => test.alert_rule_test);
    for (const alert of alertNames) {
      const mine = checks.filter((check) => check.alertname === alert);
      expect(
        mine.some((check) => check.exp_alerts.length > 0),
        `${alert} has no firing case`,
      ).toBe(true);
      expect(
        mine.some((check) => check.exp_alerts.length === 0),
        `${alert} has no silent case`,
      ).toBe(true);
    }
  });

  it('link every alert to a runbook that exists in docs/runbooks/', () => {
    for (const rule of ruleGroups.flatMap((g) => g.rules)) {
      expect(rule.annotations.runbook_url.startsWith(`${runbookBaseUrl}/`), rule.alert).toBe(true);
      const file = rule.annotations.runbook_url.slice(runbookBaseUrl.length + 1);
      expect(existsSync(join(root, 'docs/runbooks', file)), `${rule.alert} → docs/runbooks/${file}`).toBe(true);
    }
  });

  it('carry a severity, a for: and summary/description on every rule', () => {
    for (const rule of ruleGroups.flatMap((g) => g.rules)) {
      expect(['critical', 'warning']).toContain(rule.labels.severity);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(rule.annotations.summary.length, rule.alert).toBeGreaterThan(20);
      expect(rule.annotations.description.length, rule.alert).toBeGreaterThan(40);
    }
  });
});

describe('rendering the rules for a test', () => {
  it('changes only the for: durations and jobs a config gives, never an expression otherwise', () => {
    const fast: AlertConfig = {
      ...alertConfig,
      serviceJob: 'svc',
      controllerJob: 'ctl',
      for: Object.fromEntries(Object.keys(alertConfig.for).map((k) => [k, '3s'])) as AlertConfig['for'],
    };
    const bundle = ruleGroups.flatMap((g) => g.rules);
    const test = alertRuleGroups(fast).flatMap((g) => g.rules);
    expect(test.map((r) => r.alert)).toEqual(bundle.map((r) => r.alert));
    test.forEach((rule, i) => {
      const original = bundle[i];
      expect(rule.for).toBe('3s');
      expect(rule.expr).toBe(
        original?.expr
          .replaceAll(`job="${alertConfig.serviceJob}"`, 'job="svc"')
          .replaceAll(`job="${alertConfig.controllerJob}"`, 'job="ctl"'),
      );
    });
    expect(parse(rulesYaml(fast))).toEqual({ groups: JSON.parse(JSON.stringify(alertRuleGroups(fast))) as unknown });
  });
});

describe('the promtool test generator', () => {
  it('expands the label and value templates the rules use', () => {
    expect(
      expandTemplate('{{ $labels.group }} has {{ $value }} ({{ $value | printf "%.0f" }})', { group: 'g1' }, 612.4),
    ).toBe('g1 has 612.4 (612)');
  });

  it('refuses a template it cannot expand rather than writing a wrong expectation', () => {
    expect(() => expandTemplate('{{ $value | humanizeDuration }}', {}, 1)).toThrow(/not supported/);
  });
});
