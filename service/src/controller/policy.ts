// The StreamRemediationPolicy custom resource (realtime.trayb.io/v1alpha1): its spec and
// status as TypeBox schemas, from which both the TypeScript types and the CRD's OpenAPI
// schema come (crd.ts), so the two cannot drift. Every spec field is optional: a field
// that is set overrides the controller's environment default, one that is not leaves it.
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { ControllerConfig, RemediationPolicy } from '../config/controller.ts';
import { remediationActions, stuckReasons } from '../contract/index.ts';

export const POLICY_GROUP = 'realtime.trayb.io';
export const POLICY_VERSION = 'v1alpha1';
export const POLICY_KIND = 'StreamRemediationPolicy';
export const POLICY_PLURAL = 'streamremediationpolicies';

const Seconds = (description: string) => Type.Integer({ minimum: 0, description });

export const PolicySpec = Type.Object(
  {
    redis: Type.Optional(
      Type.Object(
        {
          secretRef: Type.Object(
            {
              name: Type.String({ minLength: 1, description: 'Secret in the policy namespace holding the Redis URL' }),
              // A schema default: the apiserver fills it in, so `kubectl get -o yaml` shows the key used.
              key: Type.Optional(
                Type.String({ minLength: 1, default: 'url', description: 'Key of the URL in the Secret' }),
              ),
            },
            { description: 'Where the redis:// or rediss:// URL is kept' },
          ),
        },
        { description: 'Redis connection; when absent the controller uses its REDIS_URL' },
      ),
    ),
    streamKey: Type.Optional(Type.String({ minLength: 1, description: 'Redis Stream to watch' })),
    groupPrefix: Type.Optional(
      Type.String({ minLength: 1, description: 'Consumer groups are named <groupPrefix>:<pod name>' }),
    ),
    maxLen: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'The MAXLEN producers trim the stream to (reported as realtime_stream_maxlen)',
      }),
    ),
    podSelector: Type.Optional(
      Type.Object(
        {
          matchLabels: Type.Record(Type.String(), Type.String(), {
            minProperties: 1,
            description: 'Labels every service pod carries',
          }),
        },
        { description: 'Which pods run the stream consumers' },
      ),
    ),
    thresholds: Type.Optional(
      Type.Object(
        {
          pendingEntries: Type.Optional(
            Type.Integer({ minimum: 1, description: 'A group with more pending entries is stuck' }),
          ),
          oldestPendingAgeSeconds: Type.Optional(
            Type.Integer({ minimum: 1, description: 'A group whose oldest pending entry is older is stuck' }),
          ),
          consumerIdleSeconds: Type.Optional(
            Type.Integer({
              minimum: 1,
              description: 'A group whose lag grows while its consumer is idle longer is stuck',
            }),
          ),
        },
        { description: 'When a consumer group counts as stuck' },
      ),
    ),
    action: Type.Optional(Type.Enum(remediationActions, { description: 'How a stuck pod is restarted' })),
    sustainSeconds: Type.Optional(Seconds('How long a stuck condition must hold before acting')),
    podCooldownSeconds: Type.Optional(Seconds('Minimum time between two remediations of the same pod')),
    streamCooldownSeconds: Type.Optional(Seconds('Minimum time between any two remediations on the stream')),
    budgetPerHour: Type.Optional(Type.Integer({ minimum: 0, description: 'Most remediations in any hour' })),
    minReadyPods: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Never act if fewer ready pods would remain' }),
    ),
    staleGroupGraceSeconds: Type.Optional(Seconds('A group whose pod is gone is destroyed once idle this long')),
    dryRun: Type.Optional(Type.Boolean({ description: 'Record what would be done without doing it' })),
  },
  { description: 'How the controller watches a stream and when it may restart a stuck consumer pod' },
);
export type PolicySpec = Static<typeof PolicySpec>;

const Condition = Type.Object(
  {
    type: Type.String({ description: 'Ready, Degraded or Remediating; at most one condition of each type' }),
    status: Type.Enum(['True', 'False', 'Unknown'], { description: 'Whether the condition holds' }),
    reason: Type.String({ description: 'Machine-readable cause in UpperCamelCase, e.g. RedisUnreachable' }),
    message: Type.String({ description: 'What the controller saw, for people' }),
    lastTransitionTime: Type.String({ format: 'date-time', description: 'When the status last changed' }),
    observedGeneration: Type.Optional(
      Type.Integer({ description: 'The spec generation the condition was computed from' }),
    ),
  },
  { description: 'One aspect of the policy state, in the Kubernetes condition convention' },
);
export type PolicyCondition = Static<typeof Condition>;

const GroupStatus = Type.Object(
  {
    group: Type.String({ description: 'Consumer group name, <groupPrefix>:<instance>' }),
    pod: Type.String({ description: 'The pod whose instance reads through the group' }),
    pending: Type.Integer({ description: 'Entries delivered to the group and not yet acknowledged' }),
    oldestPendingAgeSeconds: Type.Optional(
      Type.Number({ description: 'How long ago the oldest unacknowledged entry was delivered' }),
    ),
    lag: Type.Optional(Type.Integer({ description: 'Entries in the stream not yet delivered to the group' })),
    consumerIdleSeconds: Type.Optional(Type.Number({ description: "Time since the pod's consumer last read" })),
    stuck: Type.Optional(Type.Enum(stuckReasons, { description: 'The stuck condition the group meets, if any' })),
  },
  { description: 'One consumer group as the last poll saw it' },
);

const RemediationRecord = Type.Object(
  {
    pod: Type.String({ description: 'The pod acted on' }),
    group: Type.String({ description: 'The stuck consumer group that led to it' }),
    action: Type.Enum(remediationActions, { description: 'What was done: evict, delete or rollout-restart' }),
    reason: Type.Enum(stuckReasons, { description: 'Why the group counted as stuck' }),
    result: Type.String({ description: 'done, dry_run, backoff (refused by a PodDisruptionBudget) or failed' }),
    time: Type.String({ format: 'date-time', description: 'When it was done' }),
    dryRun: Type.Boolean({ description: 'Only recorded, not done' }),
  },
  { description: 'One remediation the controller carried out or, in dry run, would have' },
);
export type RemediationRecord = Static<typeof RemediationRecord>;

export const PolicyStatus = Type.Object(
  {
    observedGeneration: Type.Optional(
      Type.Integer({ description: 'The spec generation the controller last followed' }),
    ),
    observedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the last poll finished' })),
    streamLength: Type.Optional(Type.Integer({ description: 'Entries in the stream (XLEN)' })),
    /** The worst group's figures, for printer columns (JSONPath cannot aggregate). */
    maxPending: Type.Optional(Type.Integer({ description: 'Highest pending count of any group' })),
    maxOldestPendingAgeSeconds: Type.Optional(Type.Number({ description: 'Oldest pending age of any group' })),
    maxLag: Type.Optional(Type.Integer({ description: 'Highest lag of any group' })),
    lastAction: Type.Optional(Type.String({ description: 'Last remediation, as "<action> <pod>"' })),
    groups: Type.Optional(Type.Array(GroupStatus, { description: 'Per-group observations from the last poll' })),
    conditions: Type.Optional(
      Type.Array(Condition, {
        description: 'Ready (observing the stream), Degraded (running on fallbacks) and Remediating (one in flight)',
        // One entry per type, merged by type: server-side apply and strategic merges keep other types.
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    ),
    lastRemediation: Type.Optional(RemediationRecord),
    recentRemediations: Type.Optional(
      Type.Array(RemediationRecord, {
        description: 'Remediations of the last hour; a new leader reads them to honour cooldown and budget',
      }),
    ),
  },
  { description: 'What the controller last observed of the stream and what it did' },
);
export type PolicyStatus = Static<typeof PolicyStatus>;

const specValidator = Compile(PolicySpec);

/** Validates a policy object's spec; the first problem as a readable message otherwise. */
export function parsePolicySpec(spec: unknown): { ok: true; spec: PolicySpec } | { ok: false; problem: string } {
  const value = spec ?? {};
  if (specValidator.Check(value)) return { ok: true, spec: value };
  const [first] = specValidator.Errors(value);
  return { ok: false, problem: `spec${first?.instancePath ?? ''}: ${first?.message ?? 'does not match the schema'}` };
}

/** What the controller follows: the env defaults with the policy's set fields on top. */
export interface EffectiveSettings {
  readonly streamKey: string;
  readonly groupPrefix: string;
  readonly maxLen: number;
  readonly podSelector: string;
  readonly redisSecret: { readonly name: string; readonly key: string } | undefined;
  readonly policy: RemediationPolicy;
}

/** The settings the environment gives; without a cluster everything is a dry run (observe-only). */
export function settingsFromConfig(config: ControllerConfig, inCluster: boolean): EffectiveSettings {
  return {
    streamKey: config.stream.key,
    groupPrefix: config.stream.groupPrefix,
    maxLen: config.stream.maxLen,
    podSelector: config.podSelector,
    redisSecret: undefined,
    policy: inCluster ? config.policy : { ...config.policy, dryRun: true },
  };
}

export function applyPolicySpec(base: EffectiveSettings, spec: PolicySpec): EffectiveSettings {
  const s = (seconds: number | undefined, fallbackMs: number) => (seconds === undefined ? fallbackMs : seconds * 1000);
  const p = base.policy;
  const labels = spec.podSelector?.matchLabels;
  return {
    streamKey: spec.streamKey ?? base.streamKey,
    groupPrefix: spec.groupPrefix ?? base.groupPrefix,
    maxLen: spec.maxLen ?? base.maxLen,
    podSelector:
      labels === undefined
        ? base.podSelector
        : Object.entries(labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
    redisSecret:
      spec.redis === undefined
        ? base.redisSecret
        : // The schema default fills the key in on the apiserver; a spec read elsewhere may lack it.
          { name: spec.redis.secretRef.name, key: spec.redis.secretRef.key ?? 'url' },
    policy: {
      ...p,
      pendingEntries: spec.thresholds?.pendingEntries ?? p.pendingEntries,
      oldestPendingAgeMs: s(spec.thresholds?.oldestPendingAgeSeconds, p.oldestPendingAgeMs),
      consumerIdleMs: s(spec.thresholds?.consumerIdleSeconds, p.consumerIdleMs),
      sustainMs: s(spec.sustainSeconds, p.sustainMs),
      action: spec.action ?? p.action,
      dryRun: spec.dryRun ?? p.dryRun,
      podCooldownMs: s(spec.podCooldownSeconds, p.podCooldownMs),
      streamCooldownMs: s(spec.streamCooldownSeconds, p.streamCooldownMs),
      budgetPerHour: spec.budgetPerHour ?? p.budgetPerHour,
      minReadyPods: spec.minReadyPods ?? p.minReadyPods,
      staleGroupGraceMs: s(spec.staleGroupGraceSeconds, p.staleGroupGraceMs),
    },
  };
}
