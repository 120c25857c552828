// Real service processes for fault tests: `service/src/main.ts` spawned with this Node, on
// free loopback ports, so kill -9 is a real crash (sockets reset by the kernel, nothing
// flushed, nothing said to the clients).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../src/bus/throwaway-redis.ts';
import { TEST_SECRET, eventually } from '../../support/instance.ts';

const mainEntry = fileURLToPath(new URL('../../../src/main.ts', import.meta.url));

export interface ServiceProcess {
  readonly pod: string;
  readonly url: string;
  readonly metricsUrl: string;
  readonly child: ChildProcess;
  /** The last lines the process wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** kill -9: a crash. Resolves once the process is gone. */
  crash(): Promise<void>;
  /** SIGTERM (graceful drain), SIGKILL if it lingers. */
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  readonly redisUrl: string;
  readonly streamKey: string;
  readonly pod: string;
  readonly env?: Record<string, string>;
}

export async function spawnService(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [mainEntry], {
    env: {
      PATH: process.env.PATH,
      REDIS_URL: options.redisUrl,
      AUTH_JWT_SECRET: TEST_SECRET,
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
      POD_NAME: options.pod,
      REALTIME_STREAM_KEY: options.streamKey,
      MATCHES_KEY: `${options.streamKey}:matches`,
      REALTIME_STREAM_READ_BLOCK_MS: '1000',
      SSE_DRAIN_WINDOW_MS: '200',
      LOG_LEVEL: 'error',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit').then(() => undefined);
  const alive = () => child.exitCode === null && child.signalCode === null;
  const signal = async (name: NodeJS.Signals) => {
    if (!alive()) return;
    child.kill(name);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(async () => {
      if (!alive()) throw new Error(`service ${options.pod} exited during start:\n${output}`);
      return (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200;
    }, `service ${options.pod} to be ready`, 60_000);
  } catch (error) {
    await signal('SIGKILL');
    throw error;
  }
  return {
    pod: options.pod,
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    child,
    output: () => output,
    crash: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}
