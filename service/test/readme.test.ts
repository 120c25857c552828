// The README's configuration tables are the operators' reference: each must list every
// variable its entry point reads, with the code's default.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serviceEnv } from '../src/config/index.ts';
import { controllerEnv } from '../src/config/controller.ts';
import type { EnvSpec } from '../src/config/env.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function section(heading: string): string[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => line === heading);
  expect(start, `README.md has no "${heading}"`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, i) => i > start && /^#{1,3} /.test(line));
  return lines.slice(start, end === -1 ? undefined : end);
}

function checkTable(heading: string, spec: EnvSpec): void {
  describe(`the README table under "${heading}"`, () => {
    for (const [name, variable] of Object.entries(spec)) {
      it(`documents ${name} with its default`, () => {
        const row = section(heading).find((line) => line.startsWith(`| \`${name}\` |`));
        expect(row, `README.md has no row for ${name} under ${heading}`).toBeDefined();
        const shown =
          variable.defaultText === undefined
            ? '—'
            : variable.defaultText === ''
              ? '(empty)'
              : `\`${variable.defaultText}\``;
        expect(row?.split('|')[2]?.trim()).toBe(shown);
      });
    }
  });
}

checkTable('### Service configuration', serviceEnv);
checkTable('### Controller configuration', controllerEnv);
