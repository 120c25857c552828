// What the controller writes to its StreamRemediationPolicy's status: the last poll's
// per-group figures, the worst of them for `kubectl get`, the conditions (Ready, Degraded,
// Remediating) and the remediations of the last hour. Pure: built from plain data.
import type { RemediationResult } from '../contract/index.ts';
import type { History, Observations, Remediation } from './model.ts';
import type { PolicyCondition, PolicyStatus, RemediationRecord } from './policy.ts';

export interface StatusInput {
  readonly observations: Observations;
  readonly history: History;
  /** Results of the remediations in history, by their time. */
  readonly results: ReadonlyMap<number, RemediationResult>;
  /** Why the controller is running degraded (bad spec, pod list unavailable…), if it is. */
  readonly degraded: string | undefined;
  readonly generation: number | undefined;
  readonly previousConditions: readonly PolicyCondition[];
  readonly now: Date;
}

const round1 = (ms: number) => Math.round(ms / 100) / 10;

function condition(type: string, on: boolean, reason: string, message: string, input: StatusInput): PolicyCondition {
  const status = on ? 'True' : 'False';
  const previous = input.previousConditions.find((c) => c.type === type);
  // The transition time only moves when the status flips, as Kubernetes conditions expect.
  const lastTransitionTime = previous?.status === status ? previous.lastTransitionTime : input.now.toISOString();
  return {
    type,
    status,
    reason,
    message,
    lastTransitionTime,
    ...(input.generation === undefined ? {} : { observedGeneration: input.generation }),
  };
}

function record(r: Remediation, results: ReadonlyMap<number, RemediationResult>): RemediationRecord {
  return {
    pod: r.pod,
    group: r.group,
    action: r.action,
    reason: r.reason,
    result: results.get(r.at) ?? (r.dryRun ? 'dry_run' : 'done'),
    time: new Date(r.at).toISOString(),
    dryRun: r.dryRun,
  };
}

export function policyStatus(input: StatusInput): PolicyStatus {
  const { observations: obs, history } = input;
  const recent = history.remediations.map((r) => record(r, input.results));
  const last = recent.at(-1);
  const common: PolicyStatus = {
    ...(input.generation === undefined ? {} : { observedGeneration: input.generation }),
    observedAt: input.now.toISOString(),
    ...(last === undefined
      ? {}
      : { lastRemediation: last, lastAction: `${last.dryRun ? 'would ' : ''}${last.action} ${last.pod}` }),
    recentRemediations: recent,
  };
  const remediating = condition(
    'Remediating',
    history.inFlight !== undefined,
    history.inFlight === undefined ? 'Idle' : 'InFlight',
    history.inFlight === undefined
      ? 'no remediation in flight'
      : `${history.inFlight.action} of ${history.inFlight.pod} in flight`,
    input,
  );
  const degraded = condition(
    'Degraded',
    input.degraded !== undefined,
    input.degraded === undefined ? 'AsExpected' : 'Degraded',
    input.degraded ?? 'all inputs available',
    input,
  );
  if (obs.redis === 'unreachable') {
    return {
      ...common,
      conditions: [
        condition('Ready', false, 'RedisUnreachable', `cannot observe the stream: ${obs.error}`, input),
        degraded,
        remediating,
      ],
    };
  }
  const groups = obs.groups.map((g) => {
    const stuck = history.stuckSince[g.group]?.reason;
    return {
      group: g.group,
      pod: g.pod,
      pending: g.pending,
      ...(g.oldestPendingAgeMs === undefined ? {} : { oldestPendingAgeSeconds: round1(g.oldestPendingAgeMs) }),
      ...(g.lag === undefined ? {} : { lag: g.lag }),
      ...(g.consumerIdleMs === undefined ? {} : { consumerIdleSeconds: round1(g.consumerIdleMs) }),
      ...(stuck === undefined ? {} : { stuck }),
    };
  });
  const max = (values: number[]) => (values.length === 0 ? 0 : Math.max(...values));
  return {
    ...common,
    streamLength: obs.stream.length,
    maxPending: max(groups.map((g) => g.pending)),
    maxOldestPendingAgeSeconds: max(groups.map((g) => g.oldestPendingAgeSeconds ?? 0)),
    maxLag: max(groups.map((g) => g.lag ?? 0)),
    groups,
    conditions: [
      condition('Ready', true, 'Observing', `observing ${groups.length} consumer groups`, input),
      degraded,
      remediating,
    ],
  };
}

/** Reads the remediations a previous leader recorded, so cooldown and budget survive a failover. */
export function remediationsFromStatus(status: unknown, now: number): Remediation[] {
  const recent = (status as { recentRemediations?: unknown } | undefined)?.recentRemediations;
  if (!Array.isArray(recent)) return [];
  return (recent as RemediationRecord[])
    .filter((r) => r.result === 'done' || r.result === 'dry_run')
    .map((r) => ({
      pod: r.pod,
      podUid: undefined,
      group: r.group,
      action: r.action,
      reason: r.reason,
      at: Date.parse(r.time),
      dryRun: r.dryRun,
    }))
    .filter((r) => Number.isFinite(r.at) && now - r.at < 3_600_000);
}
