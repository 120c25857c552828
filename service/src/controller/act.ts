// Carrying out decisions: evict, delete or rollout-restart a pod through the ClusterPort,
// destroy stale groups in Redis, and leave a trace of each (and of each skipped action) as
// an events.k8s.io Event on the pod and on the policy, a log line and a metric.
import type { Logger } from 'pino';
import type { RedisClient } from '../redis/index.ts';
import type { ClusterEvent, ClusterPort, ObjectRef } from './cluster.ts';
import type { ControllerMetrics } from './metrics.ts';
import type { RemediationAction, RemediationResult } from '../contract/index.ts';
import type { Action } from './model.ts';
import { destroyGroup } from './observe.ts';

export interface ActContext {
  /** Undefined when running observe-only (no cluster); then only dry-run reaches here. */
  readonly cluster: ClusterPort | undefined;
  readonly redis: RedisClient;
  readonly streamKey: string;
  readonly policyName: string | undefined;
  readonly metrics: ControllerMetrics;
  readonly log: Logger;
  readonly now: () => Date;
}

const VERB: Record<RemediationAction, string> = {
  evict: 'Evict',
  delete: 'Delete',
  'rollout-restart': 'RolloutRestart',
};

async function announce(
  ctx: ActContext,
  pod: string | undefined,
  event: Omit<ClusterEvent, 'regarding' | 'related'>,
): Promise<void> {
  if (ctx.cluster === undefined) return;
  const policy: ObjectRef | undefined =
    ctx.policyName === undefined ? undefined : { kind: 'StreamRemediationPolicy', name: ctx.policyName };
  const podRef: ObjectRef | undefined = pod === undefined ? undefined : { kind: 'Pod', name: pod };
  const targets: [ObjectRef, ObjectRef | undefined][] = [];
  if (podRef !== undefined) targets.push([podRef, policy]);
  if (policy !== undefined) targets.push([policy, podRef]);
  for (const [regarding, related] of targets) {
    try {
      await ctx.cluster.recordEvent({ ...event, regarding, related });
    } catch (error) {
      // An Event is a courtesy to the operator; failing to write one must not undo the action.
      ctx.log.warn({ err: error, regarding: regarding.name, reason: event.reason }, 'could not record event');
    }
  }
}

async function remediate(action: Extract<Action, { kind: 'remediate' }>, ctx: ActContext): Promise<RemediationResult> {
  if (action.dryRun) return 'dry_run';
  if (ctx.cluster === undefined) return 'failed';
  switch (action.action) {
    case 'evict':
      return (await ctx.cluster.evictPod(action.pod, action.podUid)) === 'evicted' ? 'done' : 'backoff';
    case 'delete':
      await ctx.cluster.deletePod(action.pod, action.podUid);
      return 'done';
    case 'rollout-restart':
      await ctx.cluster.restartOwningDeployment(action.pod, ctx.now());
      return 'done';
  }
}

const REMEDIATION_EVENT: Record<RemediationResult, { reason: string; says: string }> = {
  done: { reason: 'StuckConsumerRemediated', says: 'restarted' },
  dry_run: { reason: 'StuckConsumerDryRun', says: 'would restart (dry run)' },
  backoff: { reason: 'RemediationRefused', says: 'eviction refused by a PodDisruptionBudget (429); backing off' },
  failed: { reason: 'RemediationFailed', says: 'failed to restart' },
};

/** Carries out one remediation; never throws, the result says how it went. */
export async function carryOutRemediation(
  action: Extract<Action, { kind: 'remediate' }>,
  ctx: ActContext,
): Promise<RemediationResult> {
  let result: RemediationResult;
  let failure = '';
  try {
    result = await remediate(action, ctx);
  } catch (error) {
    result = 'failed';
    failure = `: ${(error as Error).message}`;
  }
  ctx.metrics.remediations.inc({ action: action.action, reason: action.reason, result });
  const { reason, says } = REMEDIATION_EVENT[result];
  const note = `${says} ${action.pod} (${action.action}) because group ${action.group} is stuck: ${action.detail}${failure}`;
  const level = result === 'failed' ? 'error' : 'warn';
  ctx.log[level]({ pod: action.pod, group: action.group, action: action.action, reason: action.reason, result }, note);
  await announce(ctx, action.pod, { reason, action: VERB[action.action], note, type: 'Warning' });
  return result;
}

export async function carryOutSkip(
  action: Extract<Action, { kind: 'skip' }>,
  verb: RemediationAction,
  ctx: ActContext,
): Promise<void> {
  ctx.metrics.skippedRemediations.inc({ reason: action.reason });
  const note = `not restarting ${action.pod} although group ${action.group} is stuck (${action.stuckReason}): ${action.reason}, ${action.detail}`;
  ctx.log.warn({ pod: action.pod, group: action.group, skip: action.reason, stuck: action.stuckReason }, note);
  await announce(ctx, action.pod, { reason: 'RemediationSkipped', action: VERB[verb], note, type: 'Warning' });
}

/** Destroys the group of a pod that no longer exists (or, in dry-run, says it would). */
export async function carryOutCollection(
  action: Extract<Action, { kind: 'collect' }>,
  ctx: ActContext,
): Promise<boolean> {
  const idle = `${Math.round(action.idleMs / 1000)} s`;
  if (action.dryRun) {
    const note = `would destroy consumer group ${action.group}: pod ${action.pod} is gone and the group has been idle ${idle} (dry run)`;
    ctx.log.info({ group: action.group, pod: action.pod }, note);
    await announce(ctx, undefined, { reason: 'StaleGroupDryRun', action: 'DestroyGroup', note, type: 'Normal' });
    return false;
  }
  try {
    const destroyed = await destroyGroup(ctx.redis, ctx.streamKey, action.group);
    if (destroyed) ctx.metrics.staleGroupsCollected.inc();
    const note = `destroyed consumer group ${action.group}: pod ${action.pod} is gone and the group had been idle ${idle}`;
    ctx.log.info({ group: action.group, pod: action.pod, destroyed }, note);
    if (destroyed)
      await announce(ctx, undefined, { reason: 'StaleGroupCollected', action: 'DestroyGroup', note, type: 'Normal' });
    return destroyed;
  } catch (error) {
    ctx.log.error({ err: error, group: action.group }, 'could not destroy stale consumer group');
    return false;
  }
}
