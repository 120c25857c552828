// Both benchmarks run on a machine shared with other work: each re-runs itself once at the
// requested priority, on the requested cores, with as many file descriptors as the hard
// limit allows (idle connections need one each). Everything it starts inherits all three.
import { spawnSync } from 'node:child_process';

/**
 * Returns in the re-run; in the first run it starts the re-run, waits for it and exits with
 * its status. With autogroup scheduling, nice only ranks processes within one session; the
 * session's own autogroup value is what ranks it against other sessions, so both are set
 * (negative values need root).
 */
export function rerunWithPriority(nice: string, cpus: string): void {
  if (process.env.BENCH_PINNED === '1') return;
  const script =
    'ulimit -n "$(ulimit -Hn)" && { [ "$1" = 0 ] || echo "$1" > /proc/self/autogroup || true; } && exec nice -n "$1" taskset -c "$2" "${@:3}"';
  const result = spawnSync('bash', ['-c', script, 'bench', nice, cpus, process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1' },
  });
  process.exit(result.status ?? 1);
}
