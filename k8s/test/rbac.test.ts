// Every Kubernetes API call the controller's code makes is granted by the controller's Role,
// or by the optional component that turns on the action needing it, and nothing more. A new
// call in service/src/controller/kube.ts fails here until its permission is decided. The
// controller's suite on a real apiserver (cluster.k8s.test.ts) checks the base Role against
// the requests it records, so the map below cannot drift from what is really sent.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { named } from './manifests.ts';
import { repoRoot, workspace, type KubeObject } from './render.ts';
import { grantOf, roleGrants } from './api-calls.ts';

const kubeClient = join(repoRoot, 'service/src/controller/kube.ts');

/** @kubernetes/client-node method → the grant it needs, and where that grant lives. */
const CALLS: Record<string, { grant: string; in: string }> = {
  listNamespacedPod: { grant: 'core/pods:list', in: 'base' },
  readNamespacedPod: { grant: 'core/pods:get', in: 'base/rbac/rollout-restart' },
  createNamespacedPodEviction: { grant: 'core/pods/eviction:create', in: 'base' },
  createNamespacedEvent: { grant: 'events.k8s.io/events:create', in: 'base' },
  patchNamespacedEvent: { grant: 'events.k8s.io/events:patch', in: 'base' },
  getNamespacedCustomObject: { grant: 'realtime.trayb.io/streamremediationpolicies:get', in: 'base' },
  // The leader creates the policy it follows when it is missing (the bundle cannot ship it).
  createNamespacedCustomObject: { grant: 'realtime.trayb.io/streamremediationpolicies:create', in: 'base' },
  patchNamespacedCustomObjectStatus: { grant: 'realtime.trayb.io/streamremediationpolicies/status:patch', in: 'base' },
  readNamespacedLease: { grant: 'coordination.k8s.io/leases:get', in: 'base' },
  createNamespacedLease: { grant: 'coordination.k8s.io/leases:create', in: 'base' },
  replaceNamespacedLease: { grant: 'coordination.k8s.io/leases:update', in: 'base' },
  deleteNamespacedPod: { grant: 'core/pods:delete', in: 'base/rbac/delete-pod' },
  readNamespacedReplicaSet: { grant: 'apps/replicasets:get', in: 'base/rbac/rollout-restart' },
  patchNamespacedDeployment: { grant: 'apps/deployments:patch', in: 'base/rbac/rollout-restart' },
  // The default stack's Redis: the controller creates the Secret of its ACL users' passwords
  // and reads its own (`get` on that one Secret only). Beyond that stack, a policy whose
  // spec.redis.secretRef names a Secret needs the operator's own `get` on it (resourceNames).
  createNamespacedSecret: { grant: 'core/secrets:create', in: 'base/redis' },
  readNamespacedSecret: { grant: 'core/secrets:get', in: 'base/redis' },
};

function grants(objects: readonly KubeObject[], role: string): string[] {
  return roleGrants(named(objects, 'Role', role));
}

describe("the controller's API calls against its RBAC", () => {
  const ws = workspace();
  afterAll(() => ws.dispose());
  const source = () => readFileSync(kubeClient, 'utf8');
  const calls = () =>
    [...new Set([...source().matchAll(/this\.#\w+\.(\w+Namespaced\w*)\(/g)].map((m) => m[1] ?? ''))].sort();

  it('knows every call the client makes', () => {
    expect(calls().length).toBeGreaterThan(0);
    expect(
      calls().filter((call) => !(call in CALLS)),
      'add the call to CALLS with the grant it needs',
    ).toEqual([]);
  });

  it.each([
    ['base', 'trayb-realtime-controller'],
    ['base/rbac/rollout-restart', 'trayb-realtime-controller-rollout-restart'],
    ['base/rbac/delete-pod', 'trayb-realtime-controller-delete-pod'],
    ['base/redis', 'trayb-realtime-controller-redis-users'],
  ])('%s grants exactly what its calls need', (where, role) => {
    const granted = grants(where === 'base' ? ws.render(where) : ws.renderComponent(where), role);
    const needed = calls()
      .filter((call) => CALLS[call]?.in === where)
      .map((call) => CALLS[call]?.grant ?? '');
    expect([...new Set(granted)].sort(), 'granted but never used, or used but not granted').toEqual(
      [...new Set(needed)].sort(),
    );
  });
});

describe('reading a request as the grant it needs', () => {
  it.each([
    ['GET', '/api/v1/namespaces/rt/pods?labelSelector=a%3Db', 'core/pods:list'],
    ['GET', '/api/v1/namespaces/rt/pods?watch=true', 'core/pods:watch'],
    ['GET', '/api/v1/namespaces/rt/pods/web-0', 'core/pods:get'],
    ['POST', '/api/v1/namespaces/rt/pods/web-0/eviction', 'core/pods/eviction:create'],
    ['PATCH', '/apis/events.k8s.io/v1/namespaces/rt/events/web-0.1a2b', 'events.k8s.io/events:patch'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/rt/leases/ctl', 'coordination.k8s.io/leases:update'],
    [
      'PATCH',
      '/apis/realtime.trayb.io/v1alpha1/namespaces/rt/streamremediationpolicies/p/status',
      'realtime.trayb.io/streamremediationpolicies/status:patch',
    ],
    ['DELETE', '/api/v1/namespaces/rt/pods/web-0', 'core/pods:delete'],
  ])('%s %s → %s', (method, path, grant) => {
    expect(grantOf(method, `https://127.0.0.1:6443${path}`)).toBe(grant);
  });
});
