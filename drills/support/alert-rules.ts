// The generated alert rules as a drill loads them: expressions, labels, thresholds and range
// windows exactly as committed (alerts/generated), only every `for:` divided by one factor so
// an incident fits in drill time. That is a setting (how long a condition must hold), the same
// knob an operator turns; the rule logic is never rewritten for the test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

const rulesFile = join(import.meta.dirname, '../../alerts/generated/realtime-alerts.yaml');

const UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a Prometheus duration such as "2m", "1m30s" or "500ms". */
export function durationMs(duration: string): number {
  let total = 0;
  const pattern = /(\d+)(ms|s|m|h|d)/g;
  let consumed = '';
  for (const [whole, amount, unit] of duration.matchAll(pattern)) {
    total += Number(amount) * (UNITS_MS[unit ?? 's'] ?? 0);
    consumed += whole;
  }
  if (consumed !== duration) throw new Error(`not a Prometheus duration: ${duration}`);
  return total;
}

export interface DrillRule {
  readonly alert: string;
  readonly for: string;
  readonly labels: Record<string, string>;
}

/** The committed rules with every `for:` divided by `factor` (at least one second). */
export function drillRules(factor: number): { yaml: string; rules: DrillRule[] } {
  const doc = parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: { alert: string; for?: string }[] }[] };
  const rules: DrillRule[] = [];
  for (const group of doc.groups) {
    for (const rule of group.rules) {
      if (rule.for !== undefined) rule.for = `${Math.max(1, Math.round(durationMs(rule.for) / factor / 1000))}s`;
      rules.push(rule as DrillRule);
    }
  }
  return { yaml: stringify(doc, { lineWidth: 0 }), rules };
}
