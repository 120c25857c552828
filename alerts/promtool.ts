// Runs Prometheus' own rule checker. The tests call it instead of trusting our YAML: a rule
// that promtool rejects would be rejected by every Prometheus we ship it to.
import { spawnSync } from 'node:child_process';

export interface PromtoolRun {
  readonly ok: boolean;
  readonly output: string;
}

export class PromtoolMissingError extends Error {
  constructor() {
    super(
      'promtool was not found on PATH, so the alert rules cannot be checked. Install it with ' +
        '`apt-get install prometheus` (Debian/Ubuntu; then stop the service it starts) or put a ' +
        "Prometheus release's promtool on PATH.",
    );
    this.name = 'PromtoolMissingError';
  }
}

export function promtool(args: readonly string[], cwd: string): PromtoolRun {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') throw new PromtoolMissingError();
  if (run.error) throw run.error;
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}
