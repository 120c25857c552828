// Runs one service instance: the app on the public port, metrics on their own port, and
// SIGTERM/SIGINT wired to the graceful shutdown. Shared by main.ts and dev.ts.
import type { Server } from 'node:http';
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { ServiceConfig } from './config/index.ts';
import { buildApp, shutdown } from './app.ts';
import { startMetricsServer } from './metrics/index.ts';

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'trayb-realtime' } });
}

export interface RunningService {
  readonly app: FastifyInstance;
  /** Undefined in a cluster worker: the primary serves the workers' metrics. */
  readonly metricsServer: Server | undefined;
  stop(): Promise<void>;
}

export interface RunOptions {
  /** 'own-port': serve METRICS_PORT here; 'cluster': the cluster primary collects them. */
  readonly metrics?: 'own-port' | 'cluster';
}

export async function runService(
  config: ServiceConfig,
  log: Logger,
  options: RunOptions = {},
): Promise<RunningService> {
  const app = await buildApp(config, log);
  const metricsServer =
    options.metrics === 'cluster'
      ? undefined
      : await startMetricsServer(app.realtime.metrics.registry, config.metricsPort, config.host);
  // When an instance goes away all its clients reconnect to the others at once; Node's
  // default accept backlog (511) overflowed at 2,000 reconnects, leaving clients in SYN
  // retries. The kernel caps this at net.core.somaxconn (4096 on current kernels).
  await app.listen({ port: config.port, host: config.host, backlog: 4096 });
  log.info(
    { instance: config.instance, group: config.stream.group, metricsPort: config.metricsPort },
    'realtime service ready',
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await shutdown(app);
      if (metricsServer !== undefined) await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      log.info('stopped');
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down');
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  return { app, metricsServer, stop };
}
