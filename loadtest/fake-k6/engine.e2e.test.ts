// loadtest/sse.js and its modules in sobek, the JavaScript engine k6 embeds: the same
// whole-run harness as harness.test.ts, hosted by loadtest/engine (Go, built here from the
// Go module proxy), so syntax or built-ins k6's engine lacks would fail here, before
// anyone runs k6. Needs Go on PATH (CI has it).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HARNESS_ENV, lastJsonLine, type HarnessResult } from './result.ts';

const engineDir = fileURLToPath(new URL('../engine', import.meta.url));
const main = fileURLToPath(new URL('./main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'loadtest-engine-'));
const engine = join(dir, 'engine');

beforeAll(() => {
  execFileSync('go', ['build', '-o', engine, '.'], {
    cwd: engineDir,
    env: { ...process.env, GOFLAGS: '-mod=mod' },
    stdio: 'inherit',
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runInSobek(behaviour: string, runners = 1): HarnessResult {
  const result = spawnSync(engine, [main], {
    env: { PATH: process.env.PATH, ...HARNESS_ENV, FAKE_BEHAVIOUR: behaviour, FAKE_RUNNERS: String(runners) },
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  return lastJsonLine(result.stdout);
}

describe('loadtest/sse.js in sobek (k6 JavaScript engine)', () => {
  it('runs a whole run and passes every verdict when drops are announced and counted', () => {
    const result = runInSobek('counted');
    expect(Object.values(result.verdicts)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(result.failures).toEqual([]);
    expect(result.sleeps).toContain(1);
    expect(result.stdout).toMatch(/: PASSED/);
  });

  it('as two k6-operator runners: the second joins the first run, and the first judges it whole', () => {
    const result = runInSobek('counted', 2);
    expect(result.runs[1]).toBe(result.runs[0]);
    expect(Object.values(result.verdicts)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(result.laterRunners).toEqual([expect.stringMatching(/the first runner judges the run/)]);
  });

  it('fails exactly the verdict a regression breaks', () => {
    expect(Object.entries(runInSobek('silent').verdicts).filter(([, value]) => value !== 1)).toEqual([
      ['fast_received_everything', 0],
      ['drops_accounted', 0],
    ]);
    expect(Object.entries(runInSobek('none').verdicts).filter(([, value]) => value !== 1)).toEqual([
      ['drops_only_with_slow', 0],
    ]);
  });
});
