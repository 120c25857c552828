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
import { ControllerHealth, loopBounds } from './health.ts';
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
const observeTimeoutMs = Math.max(1000, config.pollIntervalMs);
const bounds = loopBounds({ pollIntervalMs: config.pollIntervalMs, observeTimeoutMs, ...config.lease });
// Without a cluster there is no election loop to watch.
const health = new ControllerHealth(cluster === undefined ? { poll: bounds.poll } : bounds);
const server = await startMetricsServer(metrics.registry, config.metricsPort, config.metricsHost, {
  '/healthz': () => health.liveness(),
  '/readyz': () => health.readiness(),
});
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
metrics.leader.set(elector === undefined ? 1 : 0);
const redis = new RedisSource(await redisConfig());
const reconciler = new Reconciler({
  defaults,
  cluster,
  policyName: config.policyName,
  redis,
  metrics,
  log,
  clock: Date.now,
  isLeader: () => elector === undefined || elector.isLeader(),
  observeTimeoutMs,
});

let stopping = false;
let pollTimer: NodeJS.Timeout | undefined;
let leading = false;
let lastRoundError: string | undefined;

function onElectionRound(isLeader: boolean, error: unknown): void {
  health.progressed('election');
  metrics.leader.set(isLeader ? 1 : 0);
  if (isLeader !== leading) log.info({ leader: isLeader }, isLeader ? 'became leader' : 'stopped leading');
  leading = isLeader;
  // Said once per kind of failure, not every retry period.
  const problem = error === undefined ? undefined : (error as Error).message;
  if (problem !== undefined && problem !== lastRoundError) log.warn({ err: error }, 'leader election round failed');
  lastRoundError = problem;
}

async function poll(): Promise<void> {
  try {
    await reconciler.tick();
  } catch (error) {
    log.error({ err: error }, 'poll failed');
  }
  health.progressed('poll');
  if (!stopping) pollTimer = setTimeout(() => void poll(), config.pollIntervalMs);
}

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  clearTimeout(pollTimer);
  await elector?.release().catch((error: unknown) => log.warn({ err: error }, 'could not release the lease'));
  await redis.close();
  server.close();
}

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
elector?.start({ onRound: onElectionRound });
await poll();
