// Carrying out decisions through the ClusterPort (recording fake): the right call, an
// Event on the pod and on the policy, the metric with its result.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeCluster } from '#test-support/fake-cluster';
import { carryOutRemediation, carryOutSkip, type ActContext } from './act.ts';
import { createControllerMetrics } from './metrics.ts';
import type { RemediationAction } from '../contract/index.ts';
import type { Action } from './model.ts';

function context(cluster: FakeCluster | undefined, policy: { name?: string } = { name: 'realtime' }) {
  const policyName = policy.name;
  const metrics = createControllerMetrics();
  const ctx: ActContext = {
    cluster,
    redis: undefined as never,
    streamKey: 's',
    policyName,
    metrics,
    log: pino({ level: 'silent' }),
    now: () => new Date(0),
  };
  return { ctx, metrics };
}

const remediate = (action: RemediationAction, dryRun = false): Extract<Action, { kind: 'remediate' }> => ({
  kind: 'remediate',
  action,
  pod: 'rt-1',
  podUid: 'uid-rt-1',
  group: 'realtime-consumers:rt-1',
  reason: 'oldest_pending_age',
  detail: 'oldest pending entry delivered 45 s ago (limit 30 s)',
  dryRun,
});

async function count(
  metrics: ReturnType<typeof createControllerMetrics>,
  labels: Record<string, string>,
): Promise<number> {
  const values = (await metrics.remediations.get()).values;
  return (
    values.find((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, string>)[k] === x))
      ?.value ?? 0
  );
}

describe('remediations', () => {
  it.each<[RemediationAction, string]>([
    ['evict', 'evict'],
    ['delete', 'delete'],
    ['rollout-restart', 'restart'],
  ])('%s calls the API, records an Event on the pod and on the policy, and counts it', async (action, op) => {
    const cluster = new FakeCluster();
    const { ctx, metrics } = context(cluster);
    expect(await carryOutRemediation(remediate(action), ctx)).toBe('done');
    expect(cluster.restarts).toEqual([{ op, pod: 'rt-1' }]);
    expect(cluster.events.map((e) => [e.regarding.kind, e.related?.kind, e.reason])).toEqual([
      ['Pod', 'StreamRemediationPolicy', 'StuckConsumerRemediated'],
      ['StreamRemediationPolicy', 'Pod', 'StuckConsumerRemediated'],
    ]);
    expect(cluster.events[0]?.note).toContain('oldest pending entry delivered 45 s ago');
    expect(await count(metrics, { action, reason: 'oldest_pending_age', result: 'done' })).toBe(1);
  });

  it('an eviction refused by a PodDisruptionBudget (429) is a back-off, not a failure', async () => {
    const cluster = new FakeCluster();
    cluster.evictionAnswer = 'refused';
    const { ctx, metrics } = context(cluster);
    expect(await carryOutRemediation(remediate('evict'), ctx)).toBe('backoff');
    expect(cluster.events[0]?.reason).toBe('RemediationRefused');
    expect(await count(metrics, { result: 'backoff' })).toBe(1);
    expect(await count(metrics, { result: 'failed' })).toBe(0);
  });

  it('an API error is a failure that is reported, not thrown', async () => {
    const cluster = new FakeCluster();
    cluster.evictionAnswer = new Error('forbidden');
    const { ctx } = context(cluster);
    expect(await carryOutRemediation(remediate('evict'), ctx)).toBe('failed');
    expect(cluster.events[0]).toMatchObject({ reason: 'RemediationFailed' });
    expect(cluster.events[0]?.note).toContain('forbidden');
  });

  it('dry-run touches no pod but records what it would do', async () => {
    const cluster = new FakeCluster();
    const { ctx, metrics } = context(cluster);
    expect(await carryOutRemediation(remediate('evict', true), ctx)).toBe('dry_run');
    expect(cluster.restarts).toEqual([]);
    expect(cluster.events.map((e) => e.reason)).toEqual(['StuckConsumerDryRun', 'StuckConsumerDryRun']);
    expect(await count(metrics, { result: 'dry_run' })).toBe(1);
  });

  it('without a policy object the Event goes on the pod only', async () => {
    const cluster = new FakeCluster();
    const { ctx } = context(cluster, {});
    await carryOutRemediation(remediate('evict'), ctx);
    expect(cluster.events.map((e) => e.regarding.kind)).toEqual(['Pod']);
  });
});

describe('skipped remediations', () => {
  it('are counted by reason and explained in an Event', async () => {
    const cluster = new FakeCluster();
    const { ctx, metrics } = context(cluster);
    await carryOutSkip(
      {
        kind: 'skip',
        pod: 'rt-1',
        group: 'realtime-consumers:rt-1',
        reason: 'min_ready_pods',
        stuckReason: 'pending_entries',
        detail: 'only 0 ready pods would remain (minimum 1)',
      },
      'evict',
      ctx,
    );
    expect(cluster.restarts).toEqual([]);
    expect(cluster.events.map((e) => [e.regarding.kind, e.reason, e.action])).toEqual([
      ['Pod', 'RemediationSkipped', 'Evict'],
      ['StreamRemediationPolicy', 'RemediationSkipped', 'Evict'],
    ]);
    expect(cluster.events[0]?.note).toContain('only 0 ready pods would remain');
    expect((await metrics.skippedRemediations.get()).values).toEqual([
      expect.objectContaining({ labels: { reason: 'min_ready_pods' }, value: 1 }),
    ]);
  });
});
