// Proves the harness gives the later suites (bundle apply, RBAC, controller) a real API
// server: kubectl and client-node both reach it, CRDs become Established, RBAC decides for
// ServiceAccounts and their tokens, and eviction honours PodDisruptionBudgets.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeConfigFrom, kubectl, markPodRunning, setPdbStatus, uniqueNamespace } from './index.ts';

const kubeconfigPath = inject('kubeconfigPath');
const config = kubeConfigFrom(kubeconfigPath);
const core = config.makeApiClient(CoreV1Api);
const policy = config.makeApiClient(PolicyV1Api);
const rbac = config.makeApiClient(RbacAuthorizationV1Api);
const namespace = uniqueNamespace('harness');

function pod(name: string, labels: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name, labels },
    // Never pulled: no kubelet runs.
    spec: { containers: [{ name: 'app', image: 'registry.invalid/never-pulled:0' }] },
  };
}

async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

function evict(name: string): Promise<number> {
  return statusOf(
    core.createNamespacedPodEviction({
      name,
      namespace,
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
    }),
  );
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe('kube-apiserver harness', () => {
  it('answers kubectl with the version the wrapper module pins', async () => {
    const goMod = readFileSync(join(import.meta.dirname, 'kubernetes', 'go.mod'), 'utf8');
    const pinned = /^\s*k8s\.io\/kubernetes (v1\.\d+\.\d+)/m.exec(goMod)?.[1];
    const result = await kubectl(kubeconfigPath, ['version', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const version = JSON.parse(result.stdout) as { serverVersion?: { gitVersion?: string } };
    expect(pinned).toBeDefined();
    expect(version.serverVersion?.gitVersion).toBe(pinned);
  });

  it('stores a Pod created through client-node, which stays Pending without a kubelet', async () => {
    await core.createNamespacedPod({ namespace, body: pod('lonely') });
    const stored = await core.readNamespacedPod({ name: 'lonely', namespace });
    expect(stored.metadata?.uid).toBeTruthy();
    expect(stored.status?.phase).toBe('Pending');
    const listed = await kubectl(kubeconfigPath, ['get', 'pods', '-n', namespace, '-o', 'name']);
    expect(listed.stdout.split('\n')).toContain('pod/lonely');
  });

  it('establishes a CRD applied with kubectl and serves its custom resources', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.harness.trayb.test' },
      spec: {
        group: 'harness.trayb.test',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } },
              },
            },
          },
        ],
      },
    };
    const applied = await kubectl(kubeconfigPath, ['apply', '-f', '-'], JSON.stringify(crd));
    expect(applied.code, applied.stderr).toBe(0);
    const established = await kubectl(kubeconfigPath, [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/widgets.harness.trayb.test',
    ]);
    expect(established.code, established.stderr).toBe(0);

    const widget = (size: number) =>
      JSON.stringify({
        apiVersion: 'harness.trayb.test/v1',
        kind: 'Widget',
        metadata: { name: `w${size}` },
        spec: { size },
      });
    const valid = await kubectl(kubeconfigPath, ['apply', '-n', namespace, '-f', '-'], widget(3));
    expect(valid.code, valid.stderr).toBe(0);
    // The schema is enforced by the server, not by kubectl.
    const invalid = await kubectl(kubeconfigPath, ['apply', '-n', namespace, '-f', '-'], widget(0));
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toMatch(/spec\.size/);

    await kubectl(kubeconfigPath, ['delete', 'crd', 'widgets.harness.trayb.test', '--wait=false']);
  });

  describe('RBAC for a ServiceAccount', () => {
    const account = 'pod-reader';
    const subject = `system:serviceaccount:${namespace}:${account}`;

    beforeAll(async () => {
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: account } } });
      await rbac.createNamespacedRole({
        namespace,
        body: {
          metadata: { name: account },
          rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
        },
      });
      await rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: account },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: account },
          subjects: [{ kind: 'ServiceAccount', name: account, namespace }],
        },
      });
    });

    it('answers kubectl auth can-i from the Role, per verb and namespace', async () => {
      const canI = async (...args: string[]) =>
        (await kubectl(kubeconfigPath, ['auth', 'can-i', ...args, `--as=${subject}`])).stdout.trim();
      expect(await canI('list', 'pods', '-n', namespace)).toBe('yes');
      expect(await canI('delete', 'pods', '-n', namespace)).toBe('no');
      expect(await canI('list', 'pods', '-n', 'default')).toBe('no');
      expect(await canI('list', 'secrets', '-n', namespace)).toBe('no');
    });

    it('authenticates a token minted for the ServiceAccount and enforces the Role on it', async () => {
      const minted = await core.createNamespacedServiceAccountToken({
        name: account,
        namespace,
        body: { spec: { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 600 } },
      });
      const token = minted.status?.token;
      expect(token).toBeTruthy();

      const asAccount = new KubeConfig();
      asAccount.loadFromOptions({
        clusters: [config.getCurrentCluster()!],
        users: [{ name: account, token }],
        contexts: [{ name: account, cluster: config.getCurrentCluster()!.name, user: account }],
        currentContext: account,
      });
      const accountCore = asAccount.makeApiClient(CoreV1Api);
      expect(await statusOf(accountCore.listNamespacedPod({ namespace }))).toBe(200);
      expect(await statusOf(accountCore.deleteNamespacedPod({ name: 'lonely', namespace }))).toBe(403);
      expect(await statusOf(accountCore.listNamespacedPod({ namespace: 'default' }))).toBe(403);
    });
  });

  describe('pods/eviction', () => {
    const selector = { app: 'guarded' };

    beforeAll(async () => {
      await policy.createNamespacedPodDisruptionBudget({
        namespace,
        body: { metadata: { name: 'guard' }, spec: { minAvailable: 1, selector: { matchLabels: selector } } },
      });
    });

    it('evicts a Running pod no PodDisruptionBudget covers', async () => {
      await core.createNamespacedPod({ namespace, body: pod('free') });
      await markPodRunning(core, namespace, 'free');
      expect(await evict('free')).toBe(200);
      expect(await statusOf(core.readNamespacedPod({ name: 'free', namespace }))).toBe(404);
    });

    it('ignores the budget for a Pending pod, as the API server does for pods not yet running', async () => {
      await core.createNamespacedPod({ namespace, body: pod('pending', selector) });
      expect(await evict('pending')).toBe(200);
      expect(await statusOf(core.readNamespacedPod({ name: 'pending', namespace }))).toBe(404);
    });

    it('refuses with 429 while no disruption controller has processed the budget', async () => {
      await core.createNamespacedPod({ namespace, body: pod('unprocessed', selector) });
      await markPodRunning(core, namespace, 'unprocessed');
      expect(await evict('unprocessed')).toBe(429);
      expect(await statusOf(core.readNamespacedPod({ name: 'unprocessed', namespace }))).toBe(200);
      await core.deleteNamespacedPod({ name: 'unprocessed', namespace });
    });

    it('refuses with 429 when the budget allows no disruption, and evicts once it allows one', async () => {
      await core.createNamespacedPod({ namespace, body: pod('blocked', selector) });
      await markPodRunning(core, namespace, 'blocked');

      await setPdbStatus(policy, namespace, 'guard', {
        disruptionsAllowed: 0,
        currentHealthy: 1,
        desiredHealthy: 1,
        expectedPods: 1,
      });
      expect(await evict('blocked')).toBe(429);
      expect(await statusOf(core.readNamespacedPod({ name: 'blocked', namespace }))).toBe(200);

      await setPdbStatus(policy, namespace, 'guard', {
        disruptionsAllowed: 1,
        currentHealthy: 2,
        desiredHealthy: 1,
        expectedPods: 2,
      });
      expect(await evict('blocked')).toBe(200);
      expect(await statusOf(core.readNamespacedPod({ name: 'blocked', namespace }))).toBe(404);
      // The API server spent the budget itself, as the controller's safety relies on.
      const guard = await policy.readNamespacedPodDisruptionBudget({ name: 'guard', namespace });
      expect(guard.status?.disruptionsAllowed).toBe(0);
      expect(Object.keys(guard.status?.disruptedPods ?? {})).toContain('blocked');
    });
  });
});
