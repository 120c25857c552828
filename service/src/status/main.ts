// `npm run status` (in the image: `node dist/status/main.js`, for `kubectl exec`): the
// stream, every instance's consumer group and the controller's verdict on each, read-only,
// from whatever Redis the environment names (REDIS_URL, Sentinels or Cluster).
// Exit code: 0 all groups healthy, 1 a group over a threshold, 2 cannot tell.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/index.ts';
import { createRedis } from '../redis/index.ts';
import type { RedisConfig } from '../config/common.ts';
import { KubeCluster } from '../controller/kube.ts';
import { loadKubeConfig } from '../controller/kubeconfig.ts';
import { readControllerPassword } from '../controller/redis-users.ts';
import { renderJson, renderTable } from './render.ts';
import { StatusMonitor, type StatusReport } from './sample.ts';
import { PolicyArgumentError, statusSettings } from './settings.ts';

/** Between two samples: the controller needs two observations to see a lag grow. */
const SAMPLE_INTERVAL_MS = 1000;

const USAGE = `usage: npm run status -- [--json] [--watch] [--policy <file.json | inline JSON>]

Prints the realtime stream (length, MAXLEN, first and last id, replay window at the current
rate), each instance's consumer group with its pod (pending, oldest pending age, lag,
consumer idle) and the controller's verdict on it, and the metrics:sse counters. Only reads.

  --json     one JSON object per sample, for scripts
  --watch    a new sample every second until interrupted
  --policy   a StreamRemediationPolicy (kubectl get streamremediationpolicy <name> -o json)
             or its spec, over the controller's environment (CONTROLLER_*_THRESHOLD etc.)

Redis and the stream come from the environment: REDIS_URL, or REDIS_SENTINELS /
REDIS_CLUSTER_NODES, and REALTIME_STREAM_KEY, REALTIME_STREAM_GROUP, REALTIME_STREAM_MAXLEN.
Exit code: 0 every group healthy, 1 a group stuck or lagging, 2 Redis unreachable or bad usage.
`;

function exitCode(report: StatusReport): number {
  if (report.redis === 'unreachable') return 2;
  return report.overThreshold ? 1 : 0;
}

let options: { json: boolean; watch: boolean; policy: string | undefined; help: boolean };
let settings: ReturnType<typeof statusSettings>;
try {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
      policy: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  options = { json: values.json, watch: values.watch, policy: values.policy, help: values.help };
  if (options.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  settings = statusSettings(process.env, options.policy);
} catch (error) {
  // Bad usage: an unknown option (parseArgs' ERR_PARSE_ARGS_*), a bad setting or policy.
  const badArgs = String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
  if (!(badArgs || error instanceof ConfigError || error instanceof PolicyArgumentError)) throw error;
  process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}

/**
 * In the default stack the controller's pod has no Redis password in its environment: the
 * controller reads it from the Secret it created. So does this, read only (the controller's
 * Role allows get on that one Secret), with the pod's credentials.
 */
async function redisConfig(): Promise<RedisConfig> {
  const secret = settings.redisUsersSecret;
  const kubeConfig = secret === undefined ? undefined : loadKubeConfig(process.env);
  if (secret === undefined || kubeConfig === undefined) return settings.redis;
  const cluster = new KubeCluster(kubeConfig, secret.namespace, secret.identity);
  return { ...settings.redis, password: await readControllerPassword(cluster, secret.name) };
}

const redis = createRedis(await redisConfig(), { name: 'trayb-realtime-status', offlineQueue: false });
redis.on('error', () => undefined); // a failed sample says why; no unhandled 'error'
const monitor = new StatusMonitor(redis, settings.settings, Date.now);
const render = options.json ? renderJson : renderTable;
// Clear the screen between samples only for a person watching a terminal, never for a pipe.
const clear = options.watch && !options.json && process.stdout.isTTY ? '\x1b[H\x1b[2J' : '';

let stopping = false;
let last = 2;
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => (stopping = true));

try {
  await redis.connect();
} catch (error) {
  process.stdout.write(
    render({
      redis: 'unreachable',
      observedAt: new Date().toISOString(),
      error: (error as Error).message,
      overThreshold: false,
    }),
  );
  redis.disconnect();
  process.exit(2);
}

if (options.watch) {
  while (!stopping) {
    const report = await monitor.sample();
    last = exitCode(report);
    process.stdout.write(clear + render(report));
    await sleep(SAMPLE_INTERVAL_MS);
  }
} else {
  await monitor.sample();
  await sleep(SAMPLE_INTERVAL_MS);
  const report = await monitor.sample();
  last = exitCode(report);
  process.stdout.write(render(report));
}
await redis.quit().catch(() => redis.disconnect());
process.exitCode = last;
