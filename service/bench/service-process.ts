// Our service as the benchmark runs it: the production entry (service/src/main.ts) as a real
// process pinned to the server core, configured only through its environment.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface ServiceSettings {
  readonly port: number;
  readonly metricsPort: number;
  readonly redisUrl: string;
  readonly secret: string;
  readonly streamKey: string;
  readonly maxLen: number;
  readonly heartbeatMs: number;
  /** CPUs the process may use, as taskset takes them ("0", "0,1"). */
  readonly cpus: string;
  /** More variables (WEB_CONCURRENCY, tuning knobs). */
  readonly env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[];
  /** Another build of the entry, e.g. a checkout of an earlier commit to measure "before". */
  readonly entry?: string;
  /** How long to wait for /readyz (many instances starting at once on a small machine need more). */
  readonly readyTimeoutMs?: number;
}

export interface RunningService {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startService(settings: ServiceSettings): Promise<RunningService> {
  const main = settings.entry ?? MAIN;
  const child = spawn('taskset', ['-c', settings.cpus, process.execPath, ...(settings.nodeFlags ?? []), main], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: settings.redisUrl,
      AUTH_JWT_SECRET: settings.secret,
      PORT: String(settings.port),
      METRICS_PORT: String(settings.metricsPort),
      HOST: '127.0.0.1',
      POD_NAME: 'bench',
      LOG_LEVEL: 'warn',
      REALTIME_STREAM_KEY: settings.streamKey,
      REALTIME_STREAM_MAXLEN: String(settings.maxLen),
      SSE_HEARTBEAT_INTERVAL_MS: String(settings.heartbeatMs),
      // Every benchmark subscriber shares one identity; the per-identity reconnect guard
      // would refuse all but the first 60 connections a minute.
      SSE_MAX_CONNECT_PER_MINUTE: '1000000',
      // ... and would hold at most 10 streams, nor one instance more than 10,000.
      SSE_MAX_CONNECTIONS_PER_IDENTITY: '1000000',
      SSE_MAX_CONNECTIONS: '1000000',
      SSE_DRAIN_WINDOW_MS: '0',
      ...settings.env,
    },
  });
  const url = `http://127.0.0.1:${settings.port}`;
  const readyTimeoutMs = settings.readyTimeoutMs ?? 20_000;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode}`);
    try {
      const response = await fetch(`${url}/readyz`);
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the service was not ready within ${readyTimeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid as number,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
