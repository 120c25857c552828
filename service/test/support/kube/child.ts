// Child processes of the harness: spawned with their output in a log file (a test run's
// logs are what explains a failed start), waited for until ready, stopped by their own PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** The exit code once it has exited, else null. */
  exitCode(): number | null;
  /** SIGTERM, then SIGKILL after graceMs; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export async function spawnLogged(
  name: string,
  command: string,
  args: readonly string[],
  logPath: string,
  installHint = '',
): Promise<Child> {
  const log = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', log, log] });
    await once(child, 'spawn').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        throw new Error(`${name}: ${command} was not found. ${installHint}`.trim(), { cause: error });
      throw error;
    });
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: spawned without a PID`);
  const exited = once(child, 'exit').then(() => undefined);
  return {
    name,
    pid,
    logPath,
    exitCode: () => child.exitCode ?? (child.signalCode === null ? null : 128),
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function logTail(child: Child, lines = 40): Promise<string> {
  const text = await readFile(child.logPath, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

/** Polls probe until it resolves true; fails early, with the log's tail, if the child exits. */
export async function waitUntilReady(child: Child, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode() !== null) {
      throw new Error(
        `${child.name} exited with code ${child.exitCode()} before it was ready:\n${await logTail(child)}`,
      );
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${child.name} was not ready within ${timeoutMs} ms:\n${await logTail(child)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
