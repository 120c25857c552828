// What the benchmark reads from /proc: CPU time and resident memory of the servers it
// measures, their worker processes, and a description of the machine for the report.
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** Clock ticks per second of utime/stime in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** A /proc stat line: the command name and the user and system CPU seconds it records. */
function readStat(path: string): { name: string; user: number; system: number } {
  const stat = readFileSync(path, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return {
    name: stat.slice(stat.indexOf('(') + 1, close),
    user: Number(fields[11]) / USER_HZ,
    system: Number(fields[12]) / USER_HZ,
  };
}

/** User + system CPU seconds a process has used so far (all its threads). */
export function cpuSeconds(pid: number): number {
  const { user, system } = readStat(`/proc/${pid}/stat`);
  return user + system;
}

/**
 * CPU nanoseconds a process has run so far, all its threads: the scheduler's own account
 * (/proc/<pid>/task/<tid>/schedstat). /proc/<pid>/stat counts in 10 ms ticks, too coarse
 * for a Redis that spends tens of milliseconds in a whole measurement; threads that ended
 * before the call are not counted (Redis's and Node's threads live as long as the process).
 */
export function cpuNanos(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return total;
}

/** System (kernel) CPU seconds a process has used so far (all its threads). */
export function systemCpuSeconds(pid: number): number {
  return readStat(`/proc/${pid}/stat`).system;
}

/**
 * CPU seconds per thread name (`comm`) of a process, e.g. Node's main thread against its V8
 * and libuv workers. Threads that ended before the call are not counted.
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const { name, user, system } = readStat(`/proc/${pid}/task/${tid}/stat`);
      byName.set(name, (byName.get(name) ?? 0) + user + system);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return byName;
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** Direct children of a process (nginx's worker under its master). */
export function childPids(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(' ').map(Number);
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly nginx: string;
  readonly redis: string;
  readonly loadAtStart: string;
}

export function machineInfo(versions: { nginx: string; redis: string }): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    nginx: versions.nginx,
    redis: versions.redis,
    loadAtStart: loadAverage(),
  };
}

/** The CPUs this process may run on, as in Cpus_allowed_list ("1", "0-1"). */
export function allowedCpus(): string {
  const status = readFileSync('/proc/self/status', 'utf8');
  return /Cpus_allowed_list:\s+(\S+)/.exec(status)?.[1] ?? '';
}
