// The controller's entry point: reads the environment, connects to Redis and (when it can
// find credentials) Kubernetes, serves metrics, runs leader election and the poll loop,
// and shuts down cleanly on SIGTERM, handing its Lease back.
import { pino } from 'pino';
import { loadControllerConfig } from '../config/controller.ts';
import { LeaderElector } from './leader.ts';
import { KubeCluster } from './kube.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import { createControllerMetrics } from './metrics.ts';
import { startMetricsServer } from '../metrics/server.ts';
import { settingsFromConfig } from './policy.ts';
import { Reconciler } from './reconciler.ts';
import { RedisSource } from './redis-source.ts';
import { ensureRedisUsers } from './redis-users.ts';
import { reconnectDelay } from '../redis/index.ts';
import type { RedisConfig } from '../config/common.ts';

const config = loadControllerConfig(process.env);
const log = pino({ name: 'trayb-realtime-controller', level: config.logLevel });
const kubeConfig = loadKubeConfig(process.env);
const cluster = kubeConfig === undefined ? undefined : new KubeCluster(kubeConfig, config.namespace, config.identity);
if (cluster === undefined)
  log.warn('no Kubernetes credentials found: observe-only, every decision is logged as a dry run');

const defaults = settingsFromConfig(config, cluster !== undefined);

const metrics = createControllerMetrics();
const server = await startMetricsServer(metrics.registry, config.metricsPort, config.metricsHost);
log.info(
  { port: config.metricsPort, policy: config.policyName, namespace: config.namespace, identity: config.identity },
  'controller metrics listening',
);

/**
 * With REDIS_USERS_SECRET (the default stack) the controller's Redis password comes from that
 * Secret, created first when missing. Until the API answers there is nothing to observe with,
 * so this retries rather than starting without credentials.
 */
async function redisConfig(): Promise<RedisConfig> {
  const secret = config.redisUsersSecret;
  if (secret === undefined) return config.redis;
  if (cluster === undefined) {
    log.warn({ secret }, 'REDIS_USERS_SECRET is set but there are no Kubernetes credentials: using REDIS_PASSWORD');
    return config.redis;
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const { created, controllerPassword } = await ensureRedisUsers(cluster, secret);
      log.info(
        { secret, created },
        created ? 'created the Redis users Secret with random passwords' : 'read the Redis users Secret',
      );
      return { ...config.redis, password: controllerPassword };
    } catch (error) {
      const retryInMs = reconnectDelay(attempt);
      log.warn({ err: error, secret, retryInMs }, 'cannot create or read the Redis users Secret');
      await new Promise((resolve) => setTimeout(resolve, retryInMs));
    }
  }
}

const elector = cluster === undefined ? undefined : new LeaderElector(cluster, config.lease, config.identity);
const redis = new RedisSource(await redisConfig());
const reconciler = new Reconciler({
  defaults,
  cluster,
  policyName: config.policyName,
  redis,
  metrics,
  log,
  clock: Date.now,
  isLeader: () => elector === undefined || elector.isLeader(Date.now()),
  observeTimeoutMs: Math.max(1000, config.pollIntervalMs),
});

let stopping = false;
let leaderTimer: NodeJS.Timeout | undefined;
let pollTimer: NodeJS.Timeout | undefined;

async function elect(): Promise<void> {
  if (elector === undefined) {
    metrics.leader.set(1);
    return;
  }
  const was = elector.isLeader(Date.now());
  try {
    await elector.step(Date.now());
  } catch (error) {
    log.warn({ err: error }, 'leader election round failed');
  }
  const is = elector.isLeader(Date.now());
  metrics.leader.set(is ? 1 : 0);
  if (is !== was) log.info({ leader: is }, is ? 'became leader' : 'lost leadership');
  // Renew three times per lease duration, as client-go does.
  if (!stopping) leaderTimer = setTimeout(() => void elect(), config.lease.durationMs / 3);
}

async function poll(): Promise<void> {
  try {
    await reconciler.tick();
  } catch (error) {
    log.error({ err: error }, 'poll failed');
  }
  if (!stopping) pollTimer = setTimeout(() => void poll(), config.pollIntervalMs);
}

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  clearTimeout(leaderTimer);
  clearTimeout(pollTimer);
  await elector?.release(Date.now()).catch((error: unknown) => log.warn({ err: error }, 'could not release the lease'));
  await redis.close();
  server.close();
}

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
await elect();
await poll();
