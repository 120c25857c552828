// The README's configuration table is the operators' reference: it must list every
// variable the code reads, with the code's default.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serviceEnv } from '../src/config/index.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the README configuration table', () => {
  for (const [name, variable] of Object.entries(serviceEnv)) {
    it(`documents ${name} with its default`, () => {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, `README.md has no row for ${name}`).toBeDefined();
      const shown = variable.defaultText === undefined ? '—' : variable.defaultText === '' ? '(empty)' : `\`${variable.defaultText}\``;
      expect(row?.split('|')[2]?.trim()).toBe(shown);
    });
  }
});
