// The README's knob table is what operators set: it must list every knob the scenario
// reads, with the scenario's default.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KNOBS } from './plan.js';

const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');

describe('the load test README', () => {
  it('lists every knob with its default and meaning, and no other', () => {
    const rows = readme.split('\n').filter((line) => /^\| `[A-Z_0-9]+` \|/.test(line));
    const listed = rows.map((row) => row.split('|').map((cell) => cell.trim()));
    expect(listed.map((cells) => cells[1])).toEqual(Object.keys(KNOBS).map((name) => `\`${name}\``));
    for (const cells of listed) {
      const knob = KNOBS[(cells[1] ?? '').replaceAll('`', '') as keyof typeof KNOBS];
      expect(cells[2]).toBe(knob.default === '' ? '—' : `\`${knob.default}\``);
      expect(cells[3]).toBe(knob.meaning);
    }
  });

  it('matches what sse.js reads from __ENV', () => {
    const script = readFileSync(new URL('./sse.js', import.meta.url), 'utf8');
    const read = new Set([...script.matchAll(/__ENV\.([A-Z_][A-Z0-9_]*)/g)].map((match) => match[1]));
    expect([...read].sort()).toEqual(Object.keys(KNOBS).sort());
  });
});
