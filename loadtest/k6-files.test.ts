// k6 scripts cannot import npm packages and the ConfigMap that carries sse.js into the
// cluster is flat: every module sse.js reaches must be a relative import in this folder,
// and listed in K6_FILES.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { K6_FILES, K6_SCRIPT } from './k6-files.ts';

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');
  return [...text.matchAll(IMPORT)].map((match) => match[1] ?? '');
}

describe('the files k6 runs', () => {
  it('are sse.js and the modules it reaches, all beside it, and nothing from npm', () => {
    const reached = new Set<string>([K6_SCRIPT]);
    const pending = [K6_SCRIPT];
    const builtins: string[] = [];
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('k6')) {
          builtins.push(specifier);
          continue;
        }
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\/[\w-]+\.js$/);
        const target = specifier.slice(2);
        if (!reached.has(target)) {
          reached.add(target);
          pending.push(target);
        }
      }
    }
    expect([...reached].sort()).toEqual([...K6_FILES].sort());
    expect(new Set(builtins)).toEqual(new Set(['k6', 'k6/http', 'k6/execution', 'k6/metrics', 'k6/x/sse']));
  });
});
