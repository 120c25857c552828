// The production entries (service/src/main.ts, service/src/controller/main.ts, and the status
// command service/src/status/main.ts) as child processes on free loopback ports, the way Kubernetes runs them: configuration only from
// the environment. End-to-end suites use them when they need the real process (its metrics
// port, its signals, a real crash), not an in-process app.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { TEST_SECRET } from './instance.ts';
import { waitUntil } from './prometheus.ts';

export interface ServiceProcess {
  readonly url: string;
  /** host:port of the Prometheus endpoint, for a scrape config. */
  readonly metricsAddress: string;
  /** The same endpoint as a URL, for fetching the metrics text. */
  readonly metricsUrl: string;
  readonly pid: number | undefined;
  /** What the process logged (the last 8 kB of stdout and stderr), for failure messages. */
  readonly log: () => string;
  /** The exit code once the process has ended (null when a signal ended it). */
  readonly exitCode: Promise<number | null>;
  /** Sends a signal, e.g. SIGSTOP / SIGCONT to freeze the process as a hung instance would. */
  signal(signal: NodeJS.Signals): void;
  /** Graceful: SIGTERM (the drain), SIGKILL if it lingers. */
  stop(): Promise<void>;
  /** kill -9, as a crash: sockets reset by the kernel, nothing flushed. */
  crash(): Promise<void>;
}

/** The service's production entry. */
export const serviceEntry = join(import.meta.dirname, '../../src/main.ts');
/** The controller's entry (its probes share the metrics port). */
const controllerEntry = join(import.meta.dirname, '../../src/controller/main.ts');

/** Starts the service entry (or another build of it, e.g. dist/main.js); ready when /readyz answers 200. */
export async function startServiceProcess(env: Record<string, string>, entry = serviceEntry): Promise<ServiceProcess> {
  // Suites open many streams as one identity; the per-identity cap has its own suite.
  return startEntryProcess(entry, { SSE_MAX_CONNECTIONS_PER_IDENTITY: '100000', ...env }, (url) => `${url}/readyz`);
}

export interface TestServiceOptions {
  readonly redisUrl: string;
  readonly streamKey: string;
  readonly pod: string;
  readonly env?: Record<string, string>;
}

/**
 * The service entry configured for one test stream and one pod name, with the test secret
 * and a short read block and drain window. Fault tests use it so kill -9 is a real crash
 * (sockets reset by the kernel, nothing flushed, nothing said to the clients).
 */
export function spawnService(options: TestServiceOptions): Promise<ServiceProcess> {
  return startServiceProcess({
    REDIS_URL: options.redisUrl,
    AUTH_JWT_SECRET: TEST_SECRET,
    POD_NAME: options.pod,
    REALTIME_STREAM_KEY: options.streamKey,
    MATCHES_KEY: `${options.streamKey}:matches`,
    RATE_LIMIT_KEY_PREFIX: `${options.streamKey}:ratelimit:`,
    REALTIME_STREAM_READ_BLOCK_MS: '1000',
    SSE_DRAIN_WINDOW_MS: '200',
    LOG_LEVEL: 'error',
    ...options.env,
  });
}

/**
 * Starts the controller entry, observe-only unless `env` passes a KUBECONFIG: HOME points at an
 * empty directory, so it finds no other cluster credentials. Waits until `readyPath` on the
 * metrics port answers 200: /readyz by default, /metrics for a controller never meant to get ready.
 */
export async function startControllerProcess(
  env: Record<string, string>,
  emptyHome: string,
  readyPath: '/readyz' | '/metrics' = '/readyz',
): Promise<ServiceProcess> {
  return startEntryProcess(
    controllerEntry,
    { HOME: emptyHome, METRICS_HOST: '127.0.0.1', ...env },
    (_url, metrics) => `http://${metrics}${readyPath}`,
  );
}

async function startEntryProcess(
  entry: string,
  env: Record<string, string>,
  readiness: (url: string, metricsAddress: string) => string,
): Promise<ServiceProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [entry], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exitCode = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exited = true;
      resolve(code);
    }),
  );

  const end = async (signal: 'SIGTERM' | 'SIGKILL') => {
    if (exited) return;
    child.kill('SIGCONT');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exitCode;
    clearTimeout(timer);
  };
  const stop = () => end('SIGTERM');

  try {
    await waitUntil(`${entry} to report ready`, 60_000, async () => {
      if (exited) throw new Error(`${entry} exited during start:\n${log}`);
      const response = await fetch(readiness(url, `127.0.0.1:${metricsPort}`));
      return response.ok ? true : undefined;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    metricsAddress: `127.0.0.1:${metricsPort}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    pid: child.pid,
    exitCode,
    log: () => log,
    signal: (name) => child.kill(name),
    stop,
    crash: () => end('SIGKILL'),
  };
}

/** The on-call status command's entry (`npm run status`). */
export const statusEntry = join(import.meta.dirname, '../../src/status/main.ts');

export interface CommandRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run status -- <args>` to its end, with only `env` (and PATH) as its environment. */
export async function runStatusCommand(args: readonly string[], env: Record<string, string>): Promise<CommandRun> {
  const child = spawn(process.execPath, [statusEntry, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}
