// The controller's Prometheus registry (its own, not prom-client's global one) and the
// figures it exports: the stream-wide ones no service instance can see alone, and the
// controller's own decisions. Served on METRICS_PORT by metrics/server.ts.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import {
  controllerMetrics,
  remediationResults,
  skippedRemediationReasons,
  stuckReasons,
  type RemediationAction,
} from '../contract/index.ts';
import type { PodView } from './model.ts';
import type { StreamObservation } from './observe.ts';

export type ControllerMetrics = ReturnType<typeof createControllerMetrics>;

export function createControllerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const group = ['group'] as const;
  const metrics = {
    registry,
    streamLength: new Gauge({
      name: controllerMetrics.streamLength,
      help: 'Entries in the realtime stream (XLEN)',
      registers,
    }),
    streamMaxLen: new Gauge({
      name: controllerMetrics.streamMaxLen,
      help: 'MAXLEN producers trim the stream to',
      registers,
    }),
    groupPending: new Gauge({
      name: controllerMetrics.groupPending,
      help: 'Delivered but unacknowledged entries per consumer group',
      labelNames: group,
      registers,
    }),
    groupOldestPendingAge: new Gauge({
      name: controllerMetrics.groupOldestPendingAge,
      help: 'Seconds since the oldest pending entry of the group was delivered (0 when none is pending)',
      labelNames: group,
      registers,
    }),
    groupLag: new Gauge({
      name: controllerMetrics.groupLag,
      help: 'Entries not yet delivered to the group (XINFO GROUPS lag)',
      labelNames: group,
      registers,
    }),
    groupConsumerIdle: new Gauge({
      name: controllerMetrics.groupConsumerIdle,
      help: 'Seconds since the group consumer last read',
      labelNames: group,
      registers,
    }),
    remediations: new Counter({
      name: controllerMetrics.remediations,
      help: 'Remediations by action, stuck reason and result (done, dry_run, backoff, failed)',
      labelNames: ['action', 'reason', 'result'] as const,
      registers,
    }),
    skippedRemediations: new Counter({
      name: controllerMetrics.skippedRemediations,
      help: 'Remediations held back by a safety rule, once per episode',
      labelNames: ['reason'] as const,
      registers,
    }),
    staleGroupsCollected: new Counter({
      name: controllerMetrics.staleGroupsCollected,
      help: 'Consumer groups of vanished pods destroyed',
      registers,
    }),
    leader: new Gauge({
      name: controllerMetrics.leader,
      help: '1 while this replica holds the leader Lease',
      registers,
    }),
    observeErrors: new Counter({
      name: controllerMetrics.observeErrors,
      help: 'Polls that could not observe the stream',
      registers,
    }),
  };
  return metrics;
}

/**
 * Creates the remediation counters at 0 for every label value this controller can use with
 * `action`. A labelled counter otherwise appears with its first increment, already at 1,
 * and increase() sees no growth in it: the first failed remediation would alert no one.
 * Adding 0 is idempotent, so the reconciler calls this on every poll and a policy that
 * switches to another action gets its series at 0 too.
 */
export function startRemediationCountersAtZero(metrics: ControllerMetrics, action: RemediationAction): void {
  for (const reason of stuckReasons)
    for (const result of remediationResults) metrics.remediations.inc({ action, reason, result }, 0);
  for (const reason of skippedRemediationReasons) metrics.skippedRemediations.inc({ reason }, 0);
}

/** Drops the per-group series: while Redis is unreachable their values are unknown, not frozen. */
export function forgetGroups(metrics: ControllerMetrics): void {
  for (const gauge of [
    metrics.groupPending,
    metrics.groupOldestPendingAge,
    metrics.groupLag,
    metrics.groupConsumerIdle,
  ])
    gauge.reset();
}

/**
 * Replaces the per-group series with this poll's, so groups that vanished stop being exported.
 * So do groups whose pod is gone or terminating (when the pod list is known): nobody reads
 * through them any more, and their frozen pending count and lag, left until stale-group
 * collection, would page StreamConsumerStuck after an eviction that worked and
 * StreamConsumerLagging after every rollout. The controller's decisions ignore them alike.
 */
export function publishObservation(
  metrics: ControllerMetrics,
  observation: StreamObservation,
  pods: readonly PodView[] | undefined,
): void {
  metrics.streamLength.set(observation.stream.length);
  metrics.streamMaxLen.set(observation.stream.maxLen);
  forgetGroups(metrics);
  const serving = pods === undefined ? undefined : new Set(pods.filter((p) => !p.terminating).map((p) => p.name));
  for (const g of observation.groups) {
    if (serving !== undefined && !serving.has(g.pod)) continue;
    const labels = { group: g.group };
    metrics.groupPending.set(labels, g.pending);
    metrics.groupOldestPendingAge.set(labels, (g.oldestPendingAgeMs ?? 0) / 1000);
    if (g.lag !== undefined) metrics.groupLag.set(labels, g.lag);
    if (g.consumerIdleMs !== undefined) metrics.groupConsumerIdle.set(labels, g.consumerIdleMs / 1000);
  }
}
