// The optional kube-controller-manager: with the disruption controller running, PDB status is
// computed from the pods (still marked Running and Ready by hand: no kubelet), and eviction
// spends the budget the controller computed. Starts its own apiserver so the shared one stays
// bare for suites that write PDB status themselves.
import { ApiException, CoreV1Api, PolicyV1Api, type V1PodDisruptionBudget } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigFrom, markPodRunning, startKubeApiserver, uniqueNamespace, type KubeApiserver } from './index.ts';

let apiserver: KubeApiserver;
let core: CoreV1Api;
let policy: PolicyV1Api;
const namespace = uniqueNamespace('controllers');

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function evict(name: string): Promise<number> {
  try {
    await core.createNamespacedPodEviction({
      name,
      namespace,
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
    });
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

beforeAll(async () => {
  apiserver = await startKubeApiserver({
    controllers: ['disruption-controller', 'namespace-controller', 'serviceaccount-controller'],
  });
  const config = kubeConfigFrom(apiserver.kubeconfigPath);
  core = config.makeApiClient(CoreV1Api);
  policy = config.makeApiClient(PolicyV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
}, 600_000);

afterAll(async () => {
  await apiserver?.stop();
});

describe('kube-controller-manager beside the apiserver', () => {
  it('gives a new namespace its default ServiceAccount', async () => {
    const accounts = await eventually(
      () => core.listNamespacedServiceAccount({ namespace }),
      (list) => list.items.some((account) => account.metadata?.name === 'default'),
    );
    expect(accounts.items.map((account) => account.metadata?.name)).toContain('default');
  });

  it('computes PDB status from ready pods, and eviction spends exactly that budget', async () => {
    const labels = { app: 'budgeted' };
    for (const name of ['one', 'two']) {
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name, labels },
          spec: { containers: [{ name: 'app', image: 'registry.invalid/never-pulled:0' }] },
        },
      });
      await markPodRunning(core, namespace, name);
    }
    await policy.createNamespacedPodDisruptionBudget({
      namespace,
      body: { metadata: { name: 'budget' }, spec: { minAvailable: 1, selector: { matchLabels: labels } } },
    });
    const computed = await eventually(
      () => policy.readNamespacedPodDisruptionBudget({ name: 'budget', namespace }),
      (pdb: V1PodDisruptionBudget) =>
        pdb.status?.observedGeneration === pdb.metadata?.generation && pdb.status?.currentHealthy === 2,
    );
    expect(computed.status).toMatchObject({
      currentHealthy: 2,
      desiredHealthy: 1,
      expectedPods: 2,
      disruptionsAllowed: 1,
    });

    expect(await evict('one')).toBe(200);
    expect(await evict('two')).toBe(429);
    const after = await policy.readNamespacedPodDisruptionBudget({ name: 'budget', namespace });
    expect(after.status?.disruptionsAllowed).toBe(0);
  });

  it('finishes deleting a namespace', async () => {
    await core.deleteNamespace({ name: namespace });
    const gone = await eventually(
      () => core.listNamespace().then((list) => list.items.some((item) => item.metadata?.name === namespace)),
      (present) => !present,
      60_000,
    );
    expect(gone).toBe(false);
  });
});
