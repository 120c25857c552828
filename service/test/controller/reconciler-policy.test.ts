// The reconciler following a StreamRemediationPolicy: its spec overrides the environment,
// its status shows what the controller sees and did, a follower never acts, and a new
// leader honours the cooldown its predecessor started.
import { describe, expect, inject, it } from 'vitest';
import type { PolicyStatus } from '../../src/controller/index.ts';
import { FakeCluster } from '#test-support/fake-cluster';
import { PREFIX, addEntries, createGroup, harness, read } from './harness.ts';

function lastStatus(h: ReturnType<typeof harness>): PolicyStatus | undefined {
  return h.cluster.calls.findLast((c) => c.op === 'status')?.status;
}

async function stuckStream(h: ReturnType<typeof harness>): Promise<void> {
  await createGroup(h.streamKey, 'rt-a');
  await createGroup(h.streamKey, 'rt-b');
  await addEntries(h.streamKey, 40);
  await read(h.streamKey, 'rt-a', 40, false); // 40 pending: stuck only under a policy that says > 10
  await read(h.streamKey, 'rt-b', 40, true);
}

describe('following a StreamRemediationPolicy', () => {
  it('the spec overrides the environment and the status shows groups, the last action and conditions', async () => {
    const h = harness({ policyName: 'realtime', pods: ['rt-a', 'rt-b'] });
    h.cluster.policy = {
      name: 'realtime',
      generation: 3,
      spec: { streamKey: h.streamKey, thresholds: { pendingEntries: 10 }, sustainSeconds: 0, action: 'delete' },
      status: undefined,
    };
    await stuckStream(h);
    await h.reconciler.tick();

    expect(h.cluster.restarts).toEqual([{ op: 'delete', pod: 'rt-a' }]);
    const status = lastStatus(h);
    expect(status).toMatchObject({
      observedGeneration: 3,
      streamLength: 40,
      maxPending: 40,
      maxLag: 0,
      lastAction: 'delete rt-a',
    });
    expect(status?.lastRemediation).toMatchObject({
      pod: 'rt-a',
      action: 'delete',
      reason: 'pending_entries',
      result: 'done',
      dryRun: false,
    });
    expect(status?.groups).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          group: `${PREFIX}:rt-a`,
          pod: 'rt-a',
          pending: 40,
          lag: 0,
          stuck: 'pending_entries',
        }),
        expect.objectContaining({ group: `${PREFIX}:rt-b`, pod: 'rt-b', pending: 0, lag: 0 }),
      ]),
    );
    const conditions = Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, c.status]));
    expect(conditions).toEqual({ Ready: 'True', Degraded: 'False', Remediating: 'True' });
  });

  it('an invalid spec is reported as Degraded and the environment defaults are followed', async () => {
    const h = harness({ policyName: 'realtime', pods: ['rt-a', 'rt-b'], policy: { sustainMs: 0 } });
    h.cluster.policy = {
      name: 'realtime',
      generation: 1,
      spec: { streamKey: h.streamKey, action: 'reboot' },
      status: undefined,
    };
    await stuckStream(h);
    await h.reconciler.tick();
    expect(h.cluster.restarts).toEqual([]); // 40 pending is healthy under the default 500
    const degraded = lastStatus(h)?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True' });
    expect(degraded?.message).toContain('/action');
  });

  it('takes the Redis URL from the Secret the policy names', async () => {
    const h = harness({ policyName: 'realtime', url: 'redis://127.0.0.1:1', pods: ['rt-a'] });
    h.cluster.policy = {
      name: 'realtime',
      generation: 1,
      spec: { streamKey: h.streamKey, redis: { secretRef: { name: 'redis' } } },
      status: undefined,
    };
    h.cluster.secrets.set('redis/url', inject('redisUrl'));
    await createGroup(h.streamKey, 'rt-a');
    const report = await h.reconciler.tick();
    expect(report.observations.redis).toBe('ok');
  });
});

describe('creating the policy it was told to follow', () => {
  it('the leader creates a missing policy with an empty spec, follows the environment and reports into its status', async () => {
    const h = harness({ policyName: 'realtime', pods: ['rt-a', 'rt-b'] });
    await stuckStream(h);
    await h.reconciler.tick();
    expect(h.cluster.calls.filter((c) => c.op === 'create-policy')).toEqual([
      { op: 'create-policy', name: 'realtime', spec: {} },
    ]);
    const status = lastStatus(h);
    expect(status?.groups?.length).toBe(2);
    const conditions = Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, c.status]));
    expect(conditions['Degraded']).toBe('False');

    await h.reconciler.tick();
    expect(h.cluster.calls.filter((c) => c.op === 'create-policy')).toHaveLength(1);
  });

  it('a follower never creates it', async () => {
    const h = harness({ policyName: 'realtime', pods: ['rt-a', 'rt-b'], leader: () => false });
    await stuckStream(h);
    await h.reconciler.tick();
    expect(h.cluster.calls).toEqual([]);
    expect(h.cluster.policy).toBeUndefined();
  });
});

describe('leadership', () => {
  it('a follower observes but never acts nor writes status', async () => {
    const h = harness({ policyName: 'realtime', pods: ['rt-a', 'rt-b'], leader: () => false });
    h.cluster.policy = {
      name: 'realtime',
      generation: 1,
      spec: { streamKey: h.streamKey, thresholds: { pendingEntries: 10 }, sustainSeconds: 0 },
      status: undefined,
    };
    await stuckStream(h);
    const report = await h.reconciler.tick();
    expect(report.actions.map((a) => a.kind)).toEqual(['remediate']); // what it would do as leader
    expect(h.cluster.calls).toEqual([]);
    expect(h.reconciler.history.stuckSince[`${PREFIX}:rt-a`]).toBeDefined();
  });

  it('a new leader honours the cooldown its predecessor recorded in the policy status', async () => {
    const h = harness({ policyName: 'realtime', pods: ['rt-a', 'rt-b'] });
    const oneMinuteAgo = new Date(h.clock.now - 60_000).toISOString();
    h.cluster.policy = {
      name: 'realtime',
      generation: 1,
      spec: { streamKey: h.streamKey, thresholds: { pendingEntries: 10 }, sustainSeconds: 0 },
      status: {
        recentRemediations: [
          {
            pod: 'rt-b',
            group: `${PREFIX}:rt-b`,
            action: 'evict',
            reason: 'pending_entries',
            result: 'done',
            time: oneMinuteAgo,
            dryRun: false,
          },
        ],
      },
    };
    await stuckStream(h);
    const report = await h.reconciler.tick();
    expect(report.actions).toEqual([expect.objectContaining({ kind: 'skip', reason: 'stream_cooldown', pod: 'rt-a' })]);
    expect(h.cluster.restarts).toEqual([]);
  });
});

describe('remediation bookkeeping', () => {
  const remediating = (h: ReturnType<typeof harness>) =>
    lastStatus(h)?.conditions?.find((c) => c.type === 'Remediating')?.status;

  it('dry-run remediations spend none of the real cooldown or budget once dry run is turned off', async () => {
    const h = harness({ policyName: 'realtime', pods: ['rt-a', 'rt-b'] });
    const spec = { streamKey: h.streamKey, thresholds: { pendingEntries: 10 }, sustainSeconds: 0, dryRun: true };
    h.cluster.policy = { name: 'realtime', generation: 1, spec, status: undefined };
    await stuckStream(h);
    await h.reconciler.tick();
    expect(h.cluster.restarts).toEqual([]);
    expect(lastStatus(h)?.lastRemediation).toMatchObject({ pod: 'rt-a', dryRun: true });

    h.cluster.policy = { name: 'realtime', generation: 2, spec: { ...spec, dryRun: false }, status: undefined };
    h.clock.now += 10_000; // well inside the 5 min cooldown a real remediation would start
    await h.reconciler.tick();
    expect(h.cluster.restarts).toEqual([{ op: 'evict', pod: 'rt-a' }]);
  });

  it('a remediation stays in flight for the pod it hit, not for a replacement of the same name', async () => {
    const h = harness({ policyName: 'realtime', pods: ['rt-a', 'rt-b'] });
    h.cluster.policy = {
      name: 'realtime',
      generation: 1,
      spec: { streamKey: h.streamKey, thresholds: { pendingEntries: 10 }, sustainSeconds: 0, action: 'delete' },
      status: undefined,
    };
    await stuckStream(h);
    await h.reconciler.tick();
    expect(h.cluster.restarts).toEqual([{ op: 'delete', pod: 'rt-a' }]);
    h.clock.now += 1000;
    await h.reconciler.tick();
    expect(remediating(h)).toBe('True'); // the deleted pod is still listed

    // A StatefulSet-style replacement: same name, new UID. The old pod is gone.
    h.cluster.pods = [{ ...FakeCluster.pod('rt-a'), uid: 'uid-rt-a-replacement' }, FakeCluster.pod('rt-b')];
    h.clock.now += 1000;
    await h.reconciler.tick();
    expect(remediating(h)).toBe('False');
    expect(h.reconciler.history.inFlight).toBeUndefined();
  });
});
