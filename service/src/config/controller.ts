// The controller's configuration: every environment variable it reads, parsed once at
// start. In a cluster a StreamRemediationPolicy object overrides these defaults field by
// field (controller/policy.ts); with no cluster they are all there is.
import { hostname } from 'node:os';
import { remediationActions, thresholds, type RemediationAction } from '../contract/index.ts';
import { checkElectionSettings, type ElectionSettings } from '../controller/leader.ts';
import { ConfigError, bool, int, oneOf, optional, readEnv, str, type EnvSpec } from './env.ts';
import { redisConfigFrom, redisEnv, streamEnv, type RedisConfig, type StreamConfig } from './common.ts';

const POSITIVE = { min: 1 };
const NON_NEGATIVE = { min: 0 };

export const controllerEnv = {
  METRICS_PORT: int('Controller Prometheus metrics port', 9465, { min: 0, max: 65535 }),
  METRICS_HOST: str('Address the metrics server binds', '0.0.0.0'),
  POD_NAME: optional(str('This controller replica; the Lease holder identity (defaults to the hostname)')),
  POD_NAMESPACE: str('Namespace of the service pods, the Lease and the policy', 'default'),
  ...redisEnv,
  ...streamEnv,
  REALTIME_STREAM_READ_BLOCK_MS: int(
    'XREADGROUP BLOCK timeout of the service; a consumer idle far beyond it is suspect',
    5000,
    POSITIVE,
  ),
  CONTROLLER_POLL_INTERVAL_MS: int('How often the stream and its groups are observed', 5000, { min: 100 }),
  CONTROLLER_PENDING_THRESHOLD: int('A group with more pending entries is stuck', thresholds.pendingEntries, POSITIVE),
  CONTROLLER_OLDEST_PENDING_AGE_SECONDS: int(
    'A group whose oldest pending entry was delivered longer ago is stuck',
    thresholds.oldestPendingAgeSeconds,
    POSITIVE,
  ),
  CONTROLLER_CONSUMER_IDLE_SECONDS: optional(
    int(
      `A group whose lag grows while its consumer is idle longer is stuck (default ${thresholds.idleReadBlocks} read blocks)`,
      undefined,
      POSITIVE,
    ),
  ),
  CONTROLLER_SUSTAIN_SECONDS: int(
    'How long a stuck condition must hold before anything happens',
    thresholds.stuckSustainSeconds,
    NON_NEGATIVE,
  ),
  CONTROLLER_ACTION: oneOf('How a stuck pod is restarted', 'evict', remediationActions),
  CONTROLLER_DRY_RUN: bool('Log and record what would be done, change nothing', false),
  CONTROLLER_POD_COOLDOWN_SECONDS: int('Minimum time between two remediations of the same pod', 300, NON_NEGATIVE),
  CONTROLLER_STREAM_COOLDOWN_SECONDS: int('Minimum time between any two remediations on the stream', 300, NON_NEGATIVE),
  CONTROLLER_BUDGET_PER_HOUR: int('Most remediations in any hour', 3, NON_NEGATIVE),
  CONTROLLER_MIN_READY_PODS: int('Never act if fewer ready pods than this would remain', 1, NON_NEGATIVE),
  CONTROLLER_STALE_GROUP_GRACE_SECONDS: int(
    'A group whose pod is gone is destroyed once idle this long',
    600,
    NON_NEGATIVE,
  ),
  CONTROLLER_BACKOFF_SECONDS: int('Wait after an eviction is refused (429) or a remediation fails', 30, NON_NEGATIVE),
  CONTROLLER_POD_SELECTOR: str(
    'Label selector of the service pods',
    'app.kubernetes.io/name=trayb-realtime,app.kubernetes.io/component=service',
  ),
  CONTROLLER_POLICY_NAME: optional(str('StreamRemediationPolicy to follow when in a cluster')),
  REDIS_USERS_SECRET: optional(
    str(
      'Secret holding the passwords of the in-cluster Redis ACL users; created with random ones when missing, and the controller connects with its own from it',
    ),
  ),
  CONTROLLER_LEASE_NAME: str('coordination.k8s.io Lease used for leader election', 'trayb-realtime-controller'),
  CONTROLLER_LEASE_DURATION_SECONDS: int(
    'Lease duration: a standby takes over once the lease has not changed for this long (on its own clock)',
    15,
    { min: 2 },
  ),
  CONTROLLER_LEASE_RENEW_DEADLINE_SECONDS: int(
    'A leader that has not renewed for this long stops acting; shorter than the lease duration',
    10,
    POSITIVE,
  ),
  CONTROLLER_LEASE_RETRY_PERIOD_SECONDS: int(
    "Time between two election rounds (renewals, or a standby's attempts); shorter than the renew deadline",
    2,
    POSITIVE,
  ),
  LOG_LEVEL: oneOf('pino log level', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
} satisfies EnvSpec;

/**
 * Everything decide() needs to know about how to behave; durations in milliseconds. The
 * environment gives the defaults below, a StreamRemediationPolicy overrides them (controller/policy.ts).
 */
export interface RemediationPolicy {
  readonly pendingEntries: number;
  readonly oldestPendingAgeMs: number;
  readonly consumerIdleMs: number;
  readonly sustainMs: number;
  readonly action: RemediationAction;
  readonly dryRun: boolean;
  /** Minimum time between two remediations of the same pod. */
  readonly podCooldownMs: number;
  /** Minimum time between any two remediations on the stream. */
  readonly streamCooldownMs: number;
  readonly budgetPerHour: number;
  readonly minReadyPods: number;
  readonly staleGroupGraceMs: number;
  /** Wait after the API refused an eviction (429) or failed. */
  readonly backoffMs: number;
  /** A remediation counts as in flight until its pod is gone, or this long at most. */
  readonly inFlightTimeoutMs: number;
}

export interface ControllerConfig {
  readonly metricsPort: number;
  readonly metricsHost: string;
  readonly identity: string;
  readonly namespace: string;
  readonly redis: RedisConfig;
  readonly stream: StreamConfig;
  readonly pollIntervalMs: number;
  readonly podSelector: string;
  readonly policyName: string | undefined;
  readonly redisUsersSecret: string | undefined;
  readonly lease: { readonly name: string } & ElectionSettings;
  readonly policy: RemediationPolicy;
  readonly logLevel: string;
}

/** The three election durations only make sense together: client-go's ordering rule, said as a config error. */
function leaseSettings(name: string, settings: ElectionSettings): { readonly name: string } & ElectionSettings {
  try {
    checkElectionSettings(settings);
  } catch (error) {
    throw new ConfigError([`CONTROLLER_LEASE_*: ${(error as Error).message}`]);
  }
  return { name, ...settings };
}

export function loadControllerConfig(env: Readonly<Record<string, string | undefined>>): ControllerConfig {
  const v = readEnv(controllerEnv, env);
  const pollIntervalMs = v.CONTROLLER_POLL_INTERVAL_MS;
  return {
    metricsPort: v.METRICS_PORT,
    metricsHost: v.METRICS_HOST,
    identity: v.POD_NAME ?? hostname(),
    namespace: v.POD_NAMESPACE,
    redis: redisConfigFrom(v),
    stream: { key: v.REALTIME_STREAM_KEY, groupPrefix: v.REALTIME_STREAM_GROUP, maxLen: v.REALTIME_STREAM_MAXLEN },
    pollIntervalMs,
    podSelector: v.CONTROLLER_POD_SELECTOR,
    policyName: v.CONTROLLER_POLICY_NAME,
    redisUsersSecret: v.REDIS_USERS_SECRET,
    lease: leaseSettings(v.CONTROLLER_LEASE_NAME, {
      leaseDurationMs: v.CONTROLLER_LEASE_DURATION_SECONDS * 1000,
      renewDeadlineMs: v.CONTROLLER_LEASE_RENEW_DEADLINE_SECONDS * 1000,
      retryPeriodMs: v.CONTROLLER_LEASE_RETRY_PERIOD_SECONDS * 1000,
    }),
    policy: {
      pendingEntries: v.CONTROLLER_PENDING_THRESHOLD,
      oldestPendingAgeMs: v.CONTROLLER_OLDEST_PENDING_AGE_SECONDS * 1000,
      consumerIdleMs:
        v.CONTROLLER_CONSUMER_IDLE_SECONDS === undefined
          ? thresholds.idleReadBlocks * v.REALTIME_STREAM_READ_BLOCK_MS
          : v.CONTROLLER_CONSUMER_IDLE_SECONDS * 1000,
      sustainMs: v.CONTROLLER_SUSTAIN_SECONDS * 1000,
      action: v.CONTROLLER_ACTION,
      dryRun: v.CONTROLLER_DRY_RUN,
      podCooldownMs: v.CONTROLLER_POD_COOLDOWN_SECONDS * 1000,
      streamCooldownMs: v.CONTROLLER_STREAM_COOLDOWN_SECONDS * 1000,
      budgetPerHour: v.CONTROLLER_BUDGET_PER_HOUR,
      minReadyPods: v.CONTROLLER_MIN_READY_PODS,
      staleGroupGraceMs: v.CONTROLLER_STALE_GROUP_GRACE_SECONDS * 1000,
      backoffMs: v.CONTROLLER_BACKOFF_SECONDS * 1000,
      // A restarted pod normally leaves within its termination grace; two minutes bounds a stuck eviction.
      inFlightTimeoutMs: Math.max(120_000, 4 * pollIntervalMs),
    },
    logLevel: v.LOG_LEVEL,
  };
}
