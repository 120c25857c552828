// loadtest/sse.js itself, run end to end (init context, setup, producers, subscribers,
// teardown, handleSummary) against stand-ins for k6's modules and a model service: the
// script's wiring holds, and a run fails on exactly the regression the model injects.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HARNESS_ENV, lastJsonLine, type HarnessResult } from './result.ts';

const hooks = fileURLToPath(new URL('./hooks.js', import.meta.url));
const main = fileURLToPath(new URL('./main.js', import.meta.url));

async function runHarness(behaviour: string, runners = 1): Promise<HarnessResult> {
  const child = spawn(process.execPath, ['--import', hooks, main], {
    env: { PATH: process.env.PATH, ...HARNESS_ENV, FAKE_BEHAVIOUR: behaviour, FAKE_RUNNERS: String(runners) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code, stderr).toBe(0);
  return lastJsonLine(stdout);
}

describe('loadtest/sse.js driven through a whole run (Node, k6 stand-ins)', () => {
  it('passes every verdict when drops for slow subscribers are announced and counted, and writes its summaries', async () => {
    const result = await runHarness('counted');
    expect(result.scenarios).toEqual(['fast_subscribers', 'producers', 'end_marker', 'slow_subscribers']);
    expect(Object.values(result.verdicts)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(result.failures).toEqual([]);
    expect(result.checks).toEqual([]);
    // The slow subscriber stopped reading (slept in its handler) for SLOW_PAUSE.
    expect(result.sleeps).toContain(1);
    expect(result.dropped).toBe(5);
    expect(result.stdout).toMatch(/: PASSED/);
    expect(result.files).toEqual(['loadtest-summary.txt', 'loadtest-summary.json']);
    expect(result.thresholds).toEqual(
      expect.arrayContaining(['loadtest_time_to_first_event', 'loadtest_verdict_drops_accounted']),
    );
  });

  it('fails fast_received_everything and drops_accounted, and only them, when a fast subscriber silently misses an event', async () => {
    const result = await runHarness('silent');
    expect(Object.entries(result.verdicts).filter(([, value]) => value !== 1)).toEqual([
      ['fast_received_everything', 0],
      ['drops_accounted', 0],
    ]);
    expect(result.failures).toEqual(['verdicts failed: fast_received_everything, drops_accounted']);
    expect(result.stdout).toMatch(/: FAILED/);
  });

  it('as two k6-operator runners: one run, one baseline, judged once over both runners’ subscribers and drops', async () => {
    const result = await runHarness('counted', 2);
    expect(result.runs[1]).toBe(result.runs[0]);
    expect(Object.values(result.verdicts)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(result.failures).toEqual([]);
    expect(result.dropped).toBe(5);
    expect(result.stdout).toMatch(/: PASSED/);
    expect(result.laterRunners).toEqual([expect.stringMatching(/the first runner judges the run/)]);
    // A fast subscriber on the second runner silently missing an event fails the whole run.
    const silent = await runHarness('silent', 2);
    expect(silent.failures).toEqual(['verdicts failed: fast_received_everything, drops_accounted']);
  });

  it('fails drops_only_with_slow when slow subscribers never overflow', async () => {
    const result = await runHarness('none');
    expect(Object.entries(result.verdicts).filter(([, value]) => value !== 1)).toEqual([['drops_only_with_slow', 0]]);
  });
});
