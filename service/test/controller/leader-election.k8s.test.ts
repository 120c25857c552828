// Leader election on a real kube-apiserver, with client-go's semantics: a standby measures
// the holder's lease on its own clock (a renewTime a day off either way changes nothing), and
// a leader cut off from the API stops acting before a standby takes over, so at no moment do
// two replicas act, and the standby leads within the lease duration plus a retry period.
// Replicas authenticate as the controller's ServiceAccount with the Role rendered from k8s/.
import { CoordinationV1Api, CoreV1Api, KubeConfig, V1MicroTime } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  applyObjects,
  controllerRbac,
  CONTROLLER_ACCOUNT,
  serviceAccountConfig,
} from '../../../k8s/test/in-cluster.ts';
import { KubeCluster, LeaderElector } from '../../src/controller/index.ts';
import { kubeConfigFrom, uniqueNamespace } from '#test-support/kube';
import { startApiBlackhole, type ApiBlackhole } from './api-blackhole.ts';

const admin = kubeConfigFrom(inject('kubeconfigPath'));
const core = admin.makeApiClient(CoreV1Api);
const coordination = admin.makeApiClient(CoordinationV1Api);
const namespace = uniqueNamespace('election');

// Short, in client-go's proportions (15/10/2 s by default); the lease duration is whole seconds on the wire.
const settings = { leaseDurationMs: 4000, renewDeadlineMs: 2500, retryPeriodMs: 500 };
const DAY = 86_400_000;

const electors: LeaderElector[] = [];
let blackhole: ApiBlackhole | undefined;

async function elector(lease: string, identity: string, server?: string): Promise<LeaderElector> {
  const config = await serviceAccountConfig(admin, namespace, CONTROLLER_ACCOUNT);
  const through = server === undefined ? config : viaServer(config, server);
  const e = new LeaderElector(new KubeCluster(through, namespace, identity), { name: lease, ...settings }, identity);
  electors.push(e);
  return e;
}

function viaServer(config: KubeConfig, server: string): KubeConfig {
  const cluster = config.getCurrentCluster();
  const user = config.getCurrentUser();
  if (cluster === null || user === null) throw new Error('the ServiceAccount kubeconfig is incomplete');
  const moved = new KubeConfig();
  moved.loadFromOptions({
    clusters: [{ ...cluster, server }],
    users: [user],
    contexts: [{ name: 'via', cluster: cluster.name, user: user.name, namespace }],
    currentContext: 'via',
  });
  return moved;
}

/** A lease held by a replica that never renews, whose clock is `skewMs` off ours. */
async function ghostLease(name: string, skewMs: number): Promise<void> {
  const at = new V1MicroTime(Date.now() + skewMs);
  await coordination.createNamespacedLease({
    namespace,
    body: {
      metadata: { name },
      spec: {
        holderIdentity: 'ghost',
        leaseDurationSeconds: settings.leaseDurationMs / 1000,
        acquireTime: at,
        renewTime: at,
        leaseTransitions: 0,
      },
    },
  });
}

/** Polls `condition` every 10 ms until it holds; returns when (ms since epoch), or fails at the deadline. */
async function until(condition: () => boolean, deadlineMs: number, what: string): Promise<number> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (condition()) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${what}: not within ${deadlineMs} ms`);
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await applyObjects(inject('kubeconfigPath'), controllerRbac(namespace));
}, 120_000);

afterAll(async () => {
  for (const e of electors) e.stop();
  await blackhole?.close();
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe('leader election against a real apiserver', () => {
  it.each([
    ['a day in the past', -DAY],
    ['a day in the future', DAY],
  ])(
    'a lease whose renewTime is %s is taken over one lease duration after it was last seen to change',
    async (_name, skew) => {
      const lease = `skew-${skew < 0 ? 'past' : 'future'}`;
      await ghostLease(lease, skew);
      const standby = await elector(lease, 'standby');
      const started = Date.now();
      standby.start();
      const led = await until(() => standby.isLeader(), settings.leaseDurationMs * 4, 'the standby leads');
      const waited = led - started;
      console.log(`renewTime ${_name}: standby led after ${waited} ms (lease duration ${settings.leaseDurationMs} ms)`);
      expect(waited).toBeGreaterThanOrEqual(settings.leaseDurationMs);
      const record = await coordination.readNamespacedLease({ name: lease, namespace });
      expect(record.spec).toMatchObject({ holderIdentity: 'standby', leaseTransitions: 1 });
    },
  );

  it('a leader cut off from the API stops acting before the standby takes over, which leads within the lease duration plus a retry period', async () => {
    blackhole = await startApiBlackhole(admin.getCurrentCluster()?.server ?? '');
    const cutOff = await elector('cut-off', 'replica-a', blackhole.server);
    const standby = await elector('cut-off', 'replica-b');
    cutOff.start();
    await until(() => cutOff.isLeader(), settings.leaseDurationMs * 4, 'replica-a leads');
    standby.start();

    // Sample both every few milliseconds for the whole drill: never two at once.
    const overlaps: number[] = [];
    let stoppedAt: number | undefined;
    const sampler = setInterval(() => {
      const [a, b] = [cutOff.isLeader(), standby.isLeader()];
      if (a && b) overlaps.push(Date.now());
      if (!a) stoppedAt ??= Date.now();
    }, 2);
    try {
      // Several rounds of the standby watching a live leader change nothing.
      await new Promise((resolve) => setTimeout(resolve, settings.leaseDurationMs * 2));
      expect(standby.isLeader()).toBe(false);
      expect(stoppedAt).toBeUndefined();

      const cutAt = Date.now();
      blackhole.block();
      const tookOver = await until(
        () => standby.isLeader(),
        (settings.leaseDurationMs + settings.retryPeriodMs) * 4,
        'the standby leads',
      );
      const failoverMs = tookOver - cutAt;
      const stoppedAfterMs = (stoppedAt ?? Infinity) - cutAt;
      console.log(
        `cut-off leader stopped acting ${stoppedAfterMs} ms after the cut; the standby led ${failoverMs} ms after it ` +
          `(lease ${settings.leaseDurationMs} ms + retry ${settings.retryPeriodMs} ms = ${settings.leaseDurationMs + settings.retryPeriodMs} ms)`,
      );
      expect(overlaps).toEqual([]);
      expect(stoppedAfterMs).toBeLessThanOrEqual(settings.renewDeadlineMs + 1000);
      expect(stoppedAt).toBeLessThan(tookOver);
      // Bound: the last renewal seen at most a retry period before the cut, one more round to notice; generous for a slow machine.
      expect(failoverMs).toBeLessThan(settings.leaseDurationMs + 2 * settings.retryPeriodMs + 2000);
      const record = await coordination.readNamespacedLease({ name: 'cut-off', namespace });
      expect(record.spec?.holderIdentity).toBe('replica-b');
    } finally {
      clearInterval(sampler);
    }
  });
});
