// Drill: the controller cannot remediate. A pod's consumer is stuck (SIGSTOP mid-read), but
// first an operator's tightened PodDisruptionBudget refuses the eviction (the controller must
// back off and on-call must see why), then the controller's RBAC loses its eviction grant at
// runtime (the first failed remediation must page: RealtimeRemediationFailing), and finally
// the grant comes back and the pod is evicted. Clients lose and duplicate nothing throughout.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { controllerMetrics, groupName } from '#contract';
import { kubectl } from '#test-support/kube';
import { waitUntil } from '#test-support/prometheus';
import { applyObjects, controllerRbac } from '../k8s/test/in-cluster.ts';
import {
  clusterEvents,
  expectLedgerClean,
  freezeMidRead,
  podExists,
  sampledQueries,
  waitForAlertState,
} from './support/drill.ts';
import { startSampler, Timeline } from './support/timeline.ts';
import { DrillWorld } from './support/world.ts';

const timeline = new Timeline(
  'remediation-blocked',
  'A stuck consumer the controller may not remediate',
  'A pod is frozen mid-read. The bundle’s PodDisruptionBudget has been tightened to minAvailable: 2, so the ' +
    'eviction is refused; then the budget is restored but the controller’s Role loses pods/eviction, so the ' +
    'remediation fails; then the Role is restored and the pod is evicted.',
);
// Backoff as the bundle ships it (30 s); the stream cooldown (300 s) only starts after a done remediation.
const world = new DrillWorld({ timeline, kubeconfigPath: inject('kubeconfigPath') });
let stopSampler: (() => Promise<void>) | undefined;
let victim = '';
const groupOf = (pod: string) => groupName('realtime-consumers', pod);

async function patchPdb(spec: Record<string, unknown>): Promise<void> {
  const patched = await kubectl(world.kubeconfigPath, [
    'patch',
    'pdb',
    'trayb-realtime',
    '-n',
    world.namespace,
    '--type=merge',
    '-p',
    JSON.stringify({ spec }),
  ]);
  if (patched.code !== 0) throw new Error(patched.stderr);
}

async function remediations(result: string): Promise<number> {
  const value = await world.prometheus.query(
    `sum(${controllerMetrics.remediations}{namespace="${world.namespace}", result="${result}"})`,
  );
  return Number(value[0]?.value[1] ?? 0);
}

beforeAll(async () => {
  await world.start();
  stopSampler = startSampler(world.prometheus, timeline, sampledQueries(world.namespace));
});

afterAll(async () => {
  await stopSampler?.();
  timeline.save();
  console.log(`timeline of ${timeline.drill}:\n${timeline.summary()}`);
  await world.stop();
});

describe('drill: a remediation refused, then failing, then allowed', () => {
  it('a PodDisruptionBudget refusal: the controller backs off, says why, and the stuck page stays', async () => {
    await patchPdb({ maxUnavailable: null, minAvailable: 2, unhealthyPodEvictionPolicy: 'IfHealthyBudget' });
    victim = world.podAt(world.clients[0]?.connectedTo) ?? world.runner.readyPods()[0] ?? '';
    await freezeMidRead(world, victim);
    await waitUntil('a refused eviction', 180_000, async () =>
      (await remediations('backoff')) > 0 ? true : undefined,
    );
    timeline.mark('eviction refused (429): backing off');
    const refused = (await clusterEvents(world)).filter(
      (e) => e.reason === 'RemediationRefused' && e.regarding?.name === victim,
    );
    expect(refused.length).toBeGreaterThan(0);
    expect(await podExists(world, victim)).toBe(true);
    expect(await remediations('done')).toBe(0);
    await waitForAlertState(
      world,
      { alertname: 'StreamConsumerStuck', group: groupOf(victim) },
      'firing',
      'paged: StreamConsumerStuck (still stuck behind the budget)',
      120_000,
    );
  });

  // Waits on s15a (issue 15 point 1): the failed-remediation counter is created at 1 by the
  // first failure, and increase() over a series that starts at 1 is 0, so nothing pages.
  it('with pods/eviction taken from its Role, the first failed remediation pages', async () => {
    await patchPdb({ minAvailable: null, maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    const narrowed = controllerRbac(world.namespace).map((o) =>
      o.kind === 'Role'
        ? {
            ...o,
            rules: (o['rules'] as { resources: string[] }[]).filter((r) => !r.resources.includes('pods/eviction')),
          }
        : o,
    );
    await applyObjects(world.kubeconfigPath, narrowed);
    timeline.mark('Role narrowed: no pods/eviction; budget restored');
    await waitUntil('a failed remediation', 180_000, async () =>
      (await remediations('failed')) > 0 ? true : undefined,
    );
    timeline.mark('remediation failed (403)');
    expect(await podExists(world, victim)).toBe(true);
    await waitForAlertState(
      world,
      { alertname: 'RealtimeRemediationFailing' },
      'firing',
      'paged: RealtimeRemediationFailing',
      90_000,
    );
    // The first failure must page, not the second one a backoff later.
    const failures = await remediations('failed');
    timeline.mark('failed remediations when paged', String(failures));
    expect(failures).toBe(1);
  });

  it('with the grant back, the next attempt evicts the pod, once', async () => {
    await applyObjects(world.kubeconfigPath, controllerRbac(world.namespace));
    timeline.mark('Role restored');
    await waitUntil(`${victim} evicted`, 180_000, async () => ((await podExists(world, victim)) ? undefined : true));
    timeline.mark('evicted', victim);
    await world.waitForReadyPods(2, 120_000);
    timeline.mark('replacement Ready');
    expect(await remediations('done')).toBeLessThanOrEqual(1);
    await waitUntil('the eviction counted', 30_000, async () =>
      (await remediations('done')) === 1 ? true : undefined,
    );
  });

  it('no client lost or saw twice a single event', async () => {
    await expectLedgerClean(world);
  });
});
