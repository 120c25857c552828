// The one freshness check for every generated file in the repository (k8s/generate/index.ts
// lists them: the CRD, alert rules and their promtool tests, the dashboard, the bundle's
// copies): each committed file is what its source produces now, none is missing, and the
// generated-only folders hold nothing else. The message names the command that fixes it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIRS, generatedFiles, repoRoot } from '../generate/index.ts';
import { GENERATE_COMMAND } from '../generate/generated-file.ts';

function filesUnder(dir: string): string[] {
  const absolute = join(repoRoot, dir);
  if (!existsSync(absolute)) return [];
  return readdirSync(absolute, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(repoRoot, join(entry.parentPath, entry.name)));
}

describe('the committed generated files', () => {
  it(`are what their sources produce now (\`${GENERATE_COMMAND}\` rewrites them)`, () => {
    const expected = generatedFiles();
    const problems: string[] = [];
    for (const file of expected) {
      const path = join(repoRoot, file.path);
      if (!existsSync(path)) problems.push(`${file.path}: missing`);
      else if (readFileSync(path, 'utf8') !== file.content) problems.push(`${file.path}: stale`);
    }
    const known = new Set(expected.map((file) => file.path));
    for (const dir of GENERATED_DIRS) {
      for (const path of filesUnder(dir))
        if (!known.has(path)) problems.push(`${path}: left over, no source produces it`);
    }
    expect(problems, `run \`${GENERATE_COMMAND}\` and commit the result`).toEqual([]);
  });
});
