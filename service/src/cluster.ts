// One worker process per core (node:cluster, WEB_CONCURRENCY > 1). The broadcast design
// makes this natural: each worker is a whole service instance reading every event through
// its own consumer group (POD_NAME-w<N>), and the primary hands incoming connections to the
// workers. The primary owns only the metrics port, where it sums the workers' metrics, and
// the lifecycle: it restarts a worker that dies and, on SIGTERM/SIGINT, tells every worker
// to drain and exits when they have.
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from 'pino';
import type { ServiceConfig } from './config/index.ts';
import { runService } from './service.ts';
import { startMetricsServer } from './metrics/index.ts';
import { groupName, workerInstance } from './contract/index.ts';

interface WorkerMessage {
  readonly type: 'trayb:hello' | 'trayb:worker-index' | 'trayb:shutdown';
  readonly index?: number;
}

function isWorkerMessage(message: unknown): message is WorkerMessage {
  return (
    typeof message === 'object' && message !== null && String((message as WorkerMessage).type).startsWith('trayb:')
  );
}

/** The configuration of worker `index` (1-based): its own instance name, group and consumer. */
export function workerConfig(config: ServiceConfig, index: number): ServiceConfig {
  const instance = workerInstance(config.instance, index);
  return {
    ...config,
    instance,
    stream: { ...config.stream, group: groupName(config.stream.groupPrefix, instance), consumer: instance },
  };
}

export async function runCluster(config: ServiceConfig, log: Logger): Promise<void> {
  if (cluster.isPrimary) await runPrimary(config, log);
  else await runWorker(config, log);
}

async function runPrimary(config: ServiceConfig, log: Logger): Promise<void> {
  const workers = new Map<number, Worker>();
  let stopping = false;
  const fork = (index: number) => {
    const worker = cluster.fork();
    workers.set(index, worker);
    // The worker asks once its listener is in place, so the answer cannot arrive too early.
    worker.on('message', (message: unknown) => {
      if (isWorkerMessage(message) && message.type === 'trayb:hello')
        worker.send({ type: 'trayb:worker-index', index } satisfies WorkerMessage);
    });
    worker.once('exit', (code, signal) => {
      if (workers.get(index) === worker) workers.delete(index);
      if (stopping) return;
      // The same index keeps the same consumer group, which skips to the stream's end on
      // start; the worker's clients reconnect elsewhere and resume with Last-Event-ID.
      log.error({ worker: index, code, signal }, 'worker exited; starting a new one');
      fork(index);
    });
  };
  for (let index = 1; index <= config.webConcurrency; index++) fork(index);

  const aggregator = new AggregatorRegistry();
  const metricsServer = await startMetricsServer(
    { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() },
    config.metricsPort,
    config.host,
  );
  log.info({ workers: config.webConcurrency, metricsPort: config.metricsPort }, 'cluster primary ready');

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stopping = true;
      log.info({ signal, workers: workers.size }, 'shutting down the workers');
      // A message, not a signal: a worker may get the terminal's SIGINT too, and a second
      // signal would kill it before its drain ends.
      const exits = [...workers.values()].map((worker) => {
        const exited = once(worker, 'exit');
        if (worker.isConnected()) worker.send({ type: 'trayb:shutdown' } satisfies WorkerMessage);
        return exited;
      });
      void Promise.all(exits).then(() => metricsServer.close(() => process.exit(0)));
    });
  }
}

async function runWorker(config: ServiceConfig, log: Logger): Promise<void> {
  const index = await new Promise<number>((resolve) => {
    const onMessage = (message: unknown) => {
      if (!isWorkerMessage(message) || message.type !== 'trayb:worker-index') return;
      process.off('message', onMessage);
      resolve(message.index ?? 1);
    };
    process.on('message', onMessage);
    process.send?.({ type: 'trayb:hello' } satisfies WorkerMessage);
  });
  const own = workerConfig(config, index);
  const service = await runService(own, log.child({ worker: index }), { metrics: 'cluster' });
  // The primary collects this worker's metrics over IPC (prom-client's cluster protocol). In a
  // worker, prom-client answers the primary's requests only once an AggregatorRegistry has
  // been constructed: its constructor installs that process 'message' listener (once per
  // process; lib/cluster.js addListeners). The instance itself is never used, so it is
  // built for that side effect alone; setRegistries names what the answers contain.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([service.app.realtime.metrics.registry]);
  process.on('message', (message: unknown) => {
    if (isWorkerMessage(message) && message.type === 'trayb:shutdown') {
      service.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    }
  });
}
