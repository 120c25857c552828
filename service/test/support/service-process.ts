// The production entry (service/src/main.ts) as a child process on free loopback ports, the
// way Kubernetes runs it: configuration only from the environment. End-to-end suites use it
// when they need the real process (its metrics port, its signals), not an in-process app.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { freePort } from '../../src/bus/throwaway-redis.ts';
import { waitUntil } from './prometheus.ts';

export interface ServiceProcess {
  readonly url: string;
  /** host:port of the Prometheus endpoint, for a scrape config. */
  readonly metricsAddress: string;
  readonly pid: number | undefined;
  /** What the process wrote to stderr (the last 8 kB), for failure messages. */
  readonly log: () => string;
  stop(): Promise<void>;
}

const mainEntry = join(import.meta.dirname, '../../src/main.ts');

export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [mainEntry], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: String(metricsPort), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  const stop = async () => {
    if (exited) return;
    const gone = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  };

  try {
    await waitUntil('the service to report ready', 30_000, async () => {
      if (exited) throw new Error(`service exited during start:\n${log}`);
      const response = await fetch(`${url}/readyz`);
      return response.ok ? true : undefined;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, metricsAddress: `127.0.0.1:${metricsPort}`, pid: child.pid, log: () => log, stop };
}
