import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardFiles } from './generate.ts';

const root = join(import.meta.dirname, '..');

describe('the committed dashboard JSON', () => {
  for (const file of dashboardFiles()) {
    it(`${file.path} matches what dashboards/generate.ts produces`, () => {
      const committed = readFileSync(join(root, file.path), 'utf8');
      expect(committed === file.content, `${file.path} is stale: run \`npm run generate:monitoring\` and commit the result`).toBe(true);
    });
  }
});
