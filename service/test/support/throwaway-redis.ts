// A private redis-server child process on a free loopback port, keeping nothing on disk
// unless asked to (`appendOnly`, for crash tests that need acknowledged writes to survive),
// optionally serving TLS only (`tls`) or with more settings (`args`, e.g. an ACL file).
// The test suites start it so tests never touch a shared Redis, and `npm start`
// (service/src/dev.ts) borrows it when no Redis is configured or reachable. It lives here,
// outside service/src, so the production build cannot contain it: tsc refuses a file outside
// the build's rootDir even when something imports it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

export interface ThrowawayRedis {
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL after 2 s). */
  stop(): Promise<void>;
  /** Kills the server hard, as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port: empty, or with its append-only file replayed (`appendOnly`). */
  restart(): Promise<void>;
}

export interface ThrowawayRedisOptions {
  readonly port?: number;
  /**
   * Persist every write to an append-only file (fsync always) in a private temp directory,
   * so a kill -9 loses nothing Redis acknowledged and restart() comes back with the data.
   */
  readonly appendOnly?: boolean;
  /** More redis-server arguments, after the defaults (e.g. `--aclfile <path>`). */
  readonly args?: readonly string[];
  /** Serve TLS only, on the port, with these PEM files; the url is then rediss://. */
  readonly tls?: ThrowawayRedisTls;
}

export interface ThrowawayRedisTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA redis-server would check client certificates against (it asks for none). */
  readonly caFile: string;
}

export class RedisServerMissingError extends Error {
  constructor() {
    super(
      'redis-server was not found on PATH. Install it (Debian/Ubuntu: `apt-get install redis-server`, ' +
        'macOS: `brew install redis`) or point REDIS_URL at a running Redis.',
    );
    this.name = 'RedisServerMissingError';
  }
}

/** Resolves true when something answers a Redis PING at host:port within timeoutMs. */
export async function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}

/**
 * Whether the server at 127.0.0.1:port answers a PING, over TLS when asked (its certificate is
 * not checked: this only waits for the process). NOAUTH counts: with the default user
 * switched off, the server answers by asking for credentials.
 */
async function serverAnswers(port: number, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls
      ? connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : connect({ host: '127.0.0.1', port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(200, () => done(false));
    socket.once('error', () => done(false));
    socket.once(tls ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk: Buffer) => done(/^(\+PONG|-NOAUTH)/.test(chunk.toString())));
  });
}

export async function startThrowawayRedis(options: ThrowawayRedisOptions = {}): Promise<ThrowawayRedis> {
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  const dataDir = options.appendOnly === true ? await mkdtemp(join(tmpdir(), 'throwaway-redis-')) : undefined;
  const persistence =
    dataDir === undefined
      ? ['--appendonly', 'no', '--dir', '/tmp']
      : ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dataDir];

  const tls = options.tls;
  const listen =
    tls === undefined
      ? ['--port', String(port)]
      : [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          tls.certFile,
          '--tls-key-file',
          tls.keyFile,
          '--tls-ca-cert-file',
          tls.caFile,
          '--tls-auth-clients',
          'no',
        ];

  const launch = async () => {
    child = spawn(
      'redis-server',
      [
        ...listen,
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        ...persistence,
        '--loglevel',
        'warning',
        ...(options.args ?? []),
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const spawned = once(child, 'spawn').then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') throw new RedisServerMissingError();
        throw error;
      },
    );
    await spawned;
    const deadline = Date.now() + 10_000;
    while (!(await serverAnswers(port, tls !== undefined))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} on port ${port}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 10 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const terminate = async (signal: NodeJS.Signals) => {
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill(signal);
    const timer = setTimeout(() => running.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url: `${tls === undefined ? 'redis' : 'rediss'}://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid;
    },
    stop: async () => {
      await terminate('SIGTERM');
      if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    },
    kill: () => terminate('SIGKILL'),
    restart: async () => {
      await terminate('SIGTERM');
      await launch();
    },
  };
}
