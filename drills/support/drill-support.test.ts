// The drills' own pure parts, in the default suite: how the rules are loaded (only for:
// changes), how the ledger orders stream ids, and what the report says.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderTimeline } from '../report.ts';
import { dividedFor, drillRules, durationMs } from './alert-rules.ts';
import { compareIds, ResumingClient } from './traffic.ts';

describe('drill rules', () => {
  it('reads Prometheus durations', () => {
    expect(durationMs('2m')).toBe(120_000);
    expect(durationMs('1m30s')).toBe(90_000);
    expect(durationMs('500ms')).toBe(500);
    expect(() => durationMs('2 minutes')).toThrow(/not a Prometheus duration/);
  });

  it('divides every for: and leaves expressions, labels and annotations as committed', () => {
    type Doc = { groups: { rules: Record<string, unknown>[] }[] };
    const committed = parse(
      readFileSync(join(import.meta.dirname, '../../alerts/generated/realtime-alerts.yaml'), 'utf8'),
    ) as Doc;
    const loaded = parse(drillRules(24).yaml) as Doc;
    const original = committed.groups.flatMap((g) => g.rules);
    const drill = loaded.groups.flatMap((g) => g.rules);
    expect(drill).toHaveLength(original.length);
    drill.forEach((rule, i) => {
      const { for: before, ...rest } = original[i] ?? {};
      const { for: after, ...same } = rule;
      expect(same).toEqual(rest);
      expect(after).toBe(dividedFor(String(before), 24));
      if (before !== '0s') expect(durationMs(String(after))).toBeLessThan(durationMs(String(before)));
    });
  });
});

describe('the ledger', () => {
  it('orders stream ids by time, then sequence, numerically', () => {
    expect(compareIds('1700000000000-9', '1700000000000-10')).toBeLessThan(0);
    expect(compareIds('999-5', '1000-0')).toBeLessThan(0);
    expect(compareIds('1000-0', '1000-0')).toBe(0);
  });

  it('reports missing, duplicated, out-of-order and unexpected events per client', () => {
    const client = new ResumingClient('c', () => undefined);
    client.ids.push('1-0', '2-0', '2-0', '4-0', '3-0', '9-0');
    const report = client.report({ accepted: ['1-0', '2-0', '3-0', '4-0', '5-0'], unavailable: [], unknown: 1 });
    expect(report).toMatchObject({
      received: 6,
      missing: ['5-0'],
      duplicates: ['2-0'],
      outOfOrder: 2,
      unexpected: ['9-0'],
    });
  });
});

describe('the drill report', () => {
  it('gives marks in seconds since the fault and each series with its peak', () => {
    const markdown = renderTimeline({
      drill: 'example',
      title: 'Example',
      story: 'A story.',
      faultAt: 10_000,
      settings: { service: '{}' },
      marks: [
        { at: 10_000, what: 'fault' },
        { at: 45_500, what: 'paged', detail: 'a|b' },
      ],
      samples: [
        { at: 8_000, values: { 'pending g': 0 } },
        { at: 20_000, values: { 'pending g': 12, 'alert X firing': 1 } },
      ],
    });
    expect(markdown).toContain('| 35.5 | paged | a\\|b |');
    expect(markdown).toContain('| pending g | -2.0 | 10.0 | 12 |');
    expect(markdown).toContain('| alert X firing | 10.0 | 10.0 | 1 |');
    expect(markdown).toContain('![Example');
  });
});
