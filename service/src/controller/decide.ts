// The controller's functional core: given what was observed, what it remembers and the
// policy, decide which pod to remediate, which remediations to hold back (and why), and
// which stale groups to collect. No I/O and no clock: `now` is an argument, so every rule
// is tested as a table row.
import type { RemediationPolicy } from '../config/controller.ts';
import type { RemediationResult, SkippedRemediationReason, StuckReason } from '../contract/index.ts';
import type {
  Action,
  Decision,
  GroupObservation,
  History,
  Observations,
  PodView,
  Remediation,
  StuckEpisode,
} from './model.ts';

const HOUR_MS = 3_600_000;

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The first stuck condition a group meets, with the numbers that show it; undefined when healthy. */
export function stuckCondition(
  group: GroupObservation,
  idleLagBaseline: number | undefined,
  policy: RemediationPolicy,
): { reason: StuckReason; detail: string } | undefined {
  if (group.pending > policy.pendingEntries) {
    return { reason: 'pending_entries', detail: `${group.pending} entries pending (limit ${policy.pendingEntries})` };
  }
  if (group.oldestPendingAgeMs !== undefined && group.oldestPendingAgeMs > policy.oldestPendingAgeMs) {
    return {
      reason: 'oldest_pending_age',
      detail: `oldest pending entry delivered ${seconds(group.oldestPendingAgeMs)} ago (limit ${seconds(policy.oldestPendingAgeMs)})`,
    };
  }
  const idle = group.consumerIdleMs;
  if (
    idle !== undefined &&
    idle > policy.consumerIdleMs &&
    group.lag !== undefined &&
    idleLagBaseline !== undefined &&
    group.lag > idleLagBaseline
  ) {
    return {
      reason: 'lag_growing_idle_consumer',
      detail: `lag grew ${idleLagBaseline} → ${group.lag} while the consumer was idle ${seconds(idle)} (limit ${seconds(policy.consumerIdleMs)})`,
    };
  }
  return undefined;
}

function isPodOf(remediation: Remediation, pod: PodView): boolean {
  return remediation.podUid === undefined ? pod.name === remediation.pod : pod.uid === remediation.podUid;
}

function isIdleBeyondLimit(group: GroupObservation, policy: RemediationPolicy): boolean {
  return group.consumerIdleMs !== undefined && group.consumerIdleMs > policy.consumerIdleMs;
}

/** Why this remediation must wait, checked from the most to the least fundamental gate. */
function gate(
  pod: string,
  pods: readonly PodView[] | undefined,
  history: History,
  recent: readonly Remediation[],
  policy: RemediationPolicy,
  now: number,
): { reason: SkippedRemediationReason; detail: string } | undefined {
  if (history.inFlight !== undefined) {
    return { reason: 'in_flight', detail: `remediation of ${history.inFlight.pod} is still in flight` };
  }
  if (now < history.backoffUntil) {
    return {
      reason: 'backing_off',
      detail: `the API refused the last attempt; retrying after ${seconds(history.backoffUntil - now)}`,
    };
  }
  const lastForPod = recent.findLast((r) => r.pod === pod);
  if (lastForPod !== undefined && now - lastForPod.at < policy.podCooldownMs) {
    return {
      reason: 'pod_cooldown',
      detail: `${pod} was remediated ${seconds(now - lastForPod.at)} ago (pod cooldown ${seconds(policy.podCooldownMs)})`,
    };
  }
  const last = recent.at(-1);
  if (last !== undefined && now - last.at < policy.streamCooldownMs) {
    return {
      reason: 'stream_cooldown',
      detail: `the stream's last remediation (${last.pod}) was ${seconds(now - last.at)} ago (stream cooldown ${seconds(policy.streamCooldownMs)})`,
    };
  }
  if (recent.length >= policy.budgetPerHour) {
    return {
      reason: 'budget_exhausted',
      detail: `${recent.length} remediations in the last hour (budget ${policy.budgetPerHour})`,
    };
  }
  if (pods === undefined) {
    // Without the pod list nothing proves enough pods would stay ready; only dry-run may proceed.
    return policy.dryRun
      ? undefined
      : { reason: 'pods_unknown', detail: 'the pod list is unavailable, so the ready-pod minimum cannot be checked' };
  }
  const remainingReady = pods.filter((p) => p.ready && !p.terminating && p.name !== pod).length;
  if (remainingReady < policy.minReadyPods) {
    return {
      reason: 'min_ready_pods',
      detail: `only ${remainingReady} ready pods would remain (minimum ${policy.minReadyPods})`,
    };
  }
  return undefined;
}

function outageDecision(
  obs: Extract<Observations, { redis: 'unreachable' }>,
  history: History,
  policy: RemediationPolicy,
  now: number,
): Decision {
  // Redis being down is an outage, not a stuck consumer: restarting pods cannot help, and
  // once Redis is back every group briefly looks stuck, so sustain timers start afresh.
  const actions: Action[] = [];
  const announced: Record<string, SkippedRemediationReason | 'collect'> = { ...history.announced };
  for (const [group, stuck] of Object.entries(history.stuckSince)) {
    if (now - stuck.since < policy.sustainMs || announced[group] === 'redis_unreachable') continue;
    actions.push({
      kind: 'skip',
      pod: stuck.pod,
      group,
      reason: 'redis_unreachable',
      stuckReason: stuck.reason,
      detail: `Redis is unreachable (${obs.error})`,
    });
    announced[group] = 'redis_unreachable';
  }
  return { actions, history: { ...history, stuckSince: {}, idleLagBaseline: {}, announced } };
}

export function decide(obs: Observations, history: History, policy: RemediationPolicy, now: number): Decision {
  if (obs.redis === 'unreachable') return outageDecision(obs, history, policy, now);

  const pods = obs.pods;
  const podByName = new Map((pods ?? []).map((p) => [p.name, p]));
  const recent = history.remediations.filter((r) => now - r.at < HOUR_MS);

  // A remediation stays in flight until the pod it acted on has left the pod list, or for a
  // bounded time. The pod is known by UID: a replacement of the same name is another pod.
  const previous = history.inFlight;
  const settled =
    previous !== undefined &&
    ((pods !== undefined && !pods.some((p) => isPodOf(previous, p))) || now - previous.at >= policy.inFlightTimeoutMs);
  let inFlight = settled ? undefined : previous;

  const stuckSince: Record<string, StuckEpisode> = {};
  const idleLagBaseline: Record<string, number> = {};
  const podMissingSince: Record<string, number> = {};
  const announced: Record<string, SkippedRemediationReason | 'collect'> = {};
  const candidates: { group: GroupObservation; since: number; reason: StuckReason; detail: string }[] = [];
  const actions: Action[] = [];

  for (const group of obs.groups) {
    const known = history.idleLagBaseline[group.group];
    if (isIdleBeyondLimit(group, policy) && group.lag !== undefined) idleLagBaseline[group.group] = known ?? group.lag;

    const pod = podByName.get(group.pod);
    if (pods !== undefined && pod === undefined) {
      // The pod is gone: its group is garbage once nobody has read through it for the grace period.
      const missingSince = history.podMissingSince[group.group] ?? now;
      const idleMs = group.consumerIdleMs ?? now - missingSince;
      if (idleMs < policy.staleGroupGraceMs) {
        podMissingSince[group.group] = missingSince;
      } else if (!policy.dryRun) {
        actions.push({ kind: 'collect', group: group.group, pod: group.pod, idleMs, dryRun: false });
      } else {
        // Dry-run: the group stays, so announce "would collect" once rather than every poll.
        podMissingSince[group.group] = missingSince;
        announced[group.group] = 'collect';
        if (history.announced[group.group] !== 'collect')
          actions.push({ kind: 'collect', group: group.group, pod: group.pod, idleMs, dryRun: true });
      }
      continue;
    }

    const condition = stuckCondition(group, known, policy);
    if (condition === undefined) continue;
    const since = history.stuckSince[group.group]?.since ?? now;
    stuckSince[group.group] = { since, reason: condition.reason, pod: group.pod };
    if (now - since >= policy.sustainMs && pod?.terminating !== true) candidates.push({ group, since, ...condition });
  }

  // Longest-stuck first; at most one remediation per poll, and none while one is in flight.
  candidates.sort((a, b) => a.since - b.since || a.group.group.localeCompare(b.group.group));
  const remediations = [...recent];
  // Only remediations of the current mode gate the next: dry-run history stays apart.
  const sameMode = () => remediations.filter((r) => r.dryRun === policy.dryRun);
  for (const candidate of candidates) {
    const { group, pod } = candidate.group;
    if (inFlight?.pod === pod) continue; // already being remediated
    const held = gate(pod, pods, { ...history, inFlight }, sameMode(), policy, now);
    if (held !== undefined) {
      if (history.announced[group] !== held.reason) {
        actions.push({
          kind: 'skip',
          pod,
          group,
          reason: held.reason,
          stuckReason: candidate.reason,
          detail: held.detail,
        });
      }
      announced[group] = held.reason;
      continue;
    }
    actions.push({
      kind: 'remediate',
      action: policy.action,
      pod,
      podUid: podByName.get(pod)?.uid,
      group,
      reason: candidate.reason,
      detail: candidate.detail,
      dryRun: policy.dryRun,
    });
    const remediation: Remediation = {
      pod,
      podUid: podByName.get(pod)?.uid,
      group,
      action: policy.action,
      reason: candidate.reason,
      at: now,
      dryRun: policy.dryRun,
    };
    remediations.push(remediation);
    if (!policy.dryRun) inFlight = remediation;
  }

  // Dry-run remediations never leave the pod list, so they are never "in flight"; the cooldown
  // still spaces them exactly as real ones would be spaced.
  const nextInFlight = inFlight !== undefined && !inFlight.dryRun ? inFlight : undefined;
  return {
    actions,
    history: {
      stuckSince,
      idleLagBaseline,
      podMissingSince,
      announced,
      remediations,
      inFlight: nextInFlight,
      backoffUntil: history.backoffUntil,
    },
  };
}

/**
 * Folds the result of carrying out a remediation back into the history. A refusal (429:
 * a PodDisruptionBudget says not now) or a failure does not spend budget or cooldown; it
 * backs off instead, so the controller neither hammers the API nor gives up.
 */
export function recordOutcome(
  history: History,
  action: Extract<Action, { kind: 'remediate' }>,
  result: RemediationResult,
  policy: RemediationPolicy,
  now: number,
): History {
  if (result === 'done' || result === 'dry_run') return history;
  const index = history.remediations.findLastIndex((r) => r.pod === action.pod);
  return {
    ...history,
    remediations: history.remediations.filter((_, i) => i !== index),
    inFlight: history.inFlight?.pod === action.pod ? undefined : history.inFlight,
    backoffUntil: now + policy.backoffMs,
  };
}
