// The StreamRemediationPolicy API as a user meets it on a real kube-apiserver: kubectl
// explain describes the fields, the schema default fills the Secret key in, and the
// conditions are a map keyed by type (two of one type are refused).
import { randomUUID } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { installCrd } from '../../../k8s/test/in-cluster.ts';
import { POLICY_GROUP, POLICY_PLURAL, POLICY_VERSION } from '../../src/controller/index.ts';
import { kubeConfigFrom, kubectl, uniqueNamespace } from '#test-support/kube';
import { waitUntil } from '#test-support/prometheus';

const kubeconfigPath = inject('kubeconfigPath');
const admin = kubeConfigFrom(kubeconfigPath);
const core = admin.makeApiClient(CoreV1Api);
const custom = admin.makeApiClient(CustomObjectsApi);
const namespace = uniqueNamespace('policy-crd');
const api = { group: POLICY_GROUP, version: POLICY_VERSION, namespace, plural: POLICY_PLURAL };

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await installCrd(kubeconfigPath);
}, 120_000);

afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe('the StreamRemediationPolicy API', () => {
  it('kubectl explain describes the status conditions and their fields', async () => {
    // The apiserver publishes a new CRD's OpenAPI a few seconds after it is Established.
    const explained = await waitUntil('kubectl explain to know the policy', 60_000, async () => {
      const result = await kubectl(kubeconfigPath, ['explain', 'streamremediationpolicies.status.conditions']);
      return result.code === 0 ? result : undefined;
    });
    expect(explained.stdout).toContain('Ready (observing the stream), Degraded (running on fallbacks)');
    expect(explained.stdout).toContain('Ready, Degraded or Remediating; at most one condition of each type');
    expect(explained.stdout).toContain('When the status last changed');
  });

  it('fills the Secret key in with its default', async () => {
    const name = `p-${randomUUID().slice(0, 8)}`;
    await custom.createNamespacedCustomObject({
      ...api,
      body: {
        apiVersion: `${POLICY_GROUP}/${POLICY_VERSION}`,
        kind: 'StreamRemediationPolicy',
        metadata: { name },
        spec: { redis: { secretRef: { name: 'redis' } } },
      },
    });
    const stored = (await custom.getNamespacedCustomObject({ ...api, name })) as {
      spec: { redis: { secretRef: { name: string; key?: string } } };
    };
    expect(stored.spec.redis.secretRef).toEqual({ name: 'redis', key: 'url' });
  });

  it('refuses two conditions of one type', async () => {
    const name = `p-${randomUUID().slice(0, 8)}`;
    await custom.createNamespacedCustomObject({
      ...api,
      body: {
        apiVersion: `${POLICY_GROUP}/${POLICY_VERSION}`,
        kind: 'StreamRemediationPolicy',
        metadata: { name },
        spec: {},
      },
    });
    const condition = (status: string) => ({
      type: 'Ready',
      status,
      reason: 'Observing',
      message: 'm',
      lastTransitionTime: new Date().toISOString(),
    });
    const patch = (conditions: unknown[]) =>
      custom.patchNamespacedCustomObjectStatus(
        { ...api, name, body: { status: { conditions } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await patch([condition('True')]);
    await expect(patch([condition('True'), condition('False')])).rejects.toThrow(/Duplicate value/);
  });
});
