// The bundle's alert rules as a drill loads them: rendered from the bundle's alert config
// (alerts/config.ts) with every `for:` divided by one factor so an incident fits in drill
// time. Expressions, labels, thresholds and range windows stay as generated; `for:` is a
// setting (how long a condition must hold), the same knob an operator turns, and the rule
// logic is never rewritten for the test.
import { parse } from 'yaml';
import { alertConfig, type AlertConfig } from '../../alerts/config.ts';
import { rulesYaml } from '../../alerts/generate.ts';

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

/** A `for:` divided by `factor`, at least a second; `0s` (fire at once) stays as it is. */
export function dividedFor(duration: string, factor: number): string {
  const ms = durationMs(duration);
  return ms === 0 ? duration : `${Math.max(1, Math.round(ms / factor / 1000))}s`;
}

/** The bundle's rules with every `for:` divided by `factor`. */
export function drillRules(factor: number): { yaml: string; rules: DrillRule[] } {
  const config: AlertConfig = {
    ...alertConfig,
    for: Object.fromEntries(
      Object.entries(alertConfig.for).map(([name, duration]) => [name, dividedFor(duration, factor)]),
    ) as unknown as AlertConfig['for'],
  };
  const yaml = rulesYaml(config);
  const doc = parse(yaml) as { groups: { rules: DrillRule[] }[] };
  return { yaml, rules: doc.groups.flatMap((group) => group.rules) };
}
