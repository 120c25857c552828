import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertFiles } from './generate.ts';

const root = join(import.meta.dirname, '..');

describe('the committed alert YAML', () => {
  for (const file of alertFiles()) {
    it(`${file.path} matches what alerts/generate.ts produces`, () => {
      const committed = readFileSync(join(root, file.path), 'utf8');
      expect(committed === file.content, `${file.path} is stale: run \`npm run generate:monitoring\` and commit the result`).toBe(true);
    });
  }
});
