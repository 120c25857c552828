// What the harness prints (main.js), shared by the Node run and the sobek run (engine.e2e.test.ts).
export interface HarnessResult {
  thresholds: string[];
  scenarios: string[];
  published: number;
  dropped: number;
  verdicts: Record<string, number>;
  failures: string[];
  checks: string[];
  sleeps: number[];
  stdout: string;
  /** Each runner's run id (the second joins the first's). */
  runs: string[];
  /** The summaries of the runners after the first. */
  laterRunners: string[];
  files: string[];
}

export const HARNESS_ENV = {
  TOKEN: 't',
  METRICS_URL: 'http://fake/metrics',
  VUS: '3',
  SLOW_VUS: '1',
  RATE: '10',
  DURATION: '2s',
  PAYLOAD_BYTES: '16',
  SLOW_PAUSE: '1s',
};

export function lastJsonLine(stdout: string): HarnessResult {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as HarnessResult;
}
