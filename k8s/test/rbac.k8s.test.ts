// Least privilege, decided by a real apiserver's RBAC authorizer: the controller's
// ServiceAccount, with the Role and RoleBinding exactly as kustomize renders them from k8s/,
// may do what service/src/controller/kube.ts does and nothing else. rbac.test.ts maps each
// client call to a grant on paper; this asks `kubectl auth can-i` as the ServiceAccount.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeConfigFrom, kubectl, uniqueNamespace } from '#test-support/kube';
import { applyObjects, controllerRbac, CONTROLLER_ACCOUNT, installCrd } from './in-cluster.ts';

const kubeconfigPath = inject('kubeconfigPath');
const core = kubeConfigFrom(kubeconfigPath).makeApiClient(CoreV1Api);
const namespace = uniqueNamespace('rbac');
const elsewhere = uniqueNamespace('rbac-other');
const subject = `system:serviceaccount:${namespace}:${CONTROLLER_ACCOUNT}`;

/** "yes" or "no" from `kubectl auth can-i <verb> <resource> [name] -n <ns> --as=<controller>`. */
async function canI(
  verb: string,
  resource: string,
  options: { name?: string; ns?: string; subresource?: string } = {},
): Promise<string> {
  const target = options.name === undefined ? resource : `${resource}/${options.name}`;
  const args = ['auth', 'can-i', verb, target, `--as=${subject}`];
  args.push(
    options.ns === undefined
      ? `--namespace=${namespace}`
      : options.ns === '*'
        ? '--all-namespaces'
        : `--namespace=${options.ns}`,
  );
  if (options.subresource !== undefined) args.push(`--subresource=${options.subresource}`);
  const result = await kubectl(kubeconfigPath, args);
  // can-i exits 1 for "no"; anything else on stderr is a broken question, not an answer.
  const answer = result.stdout.trim();
  if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return answer;
}

beforeAll(async () => {
  for (const name of [namespace, elsewhere]) await core.createNamespace({ body: { metadata: { name } } });
  // kubectl resolves the policy's resource name through discovery, so the CRD must be served.
  await installCrd(kubeconfigPath);
  await applyObjects(kubeconfigPath, controllerRbac(namespace));
});

afterAll(async () => {
  for (const name of [namespace, elsewhere]) await core.deleteNamespace({ name }).catch(() => undefined);
});

// [verb, resource, subresource?]: everything kube.ts calls with the default evict action.
const NEEDED: readonly [string, string, string?][] = [
  ['list', 'pods'],
  ['create', 'pods', 'eviction'],
  ['create', 'events.events.k8s.io'],
  ['patch', 'events.events.k8s.io'],
  ['get', 'leases.coordination.k8s.io'],
  ['create', 'leases.coordination.k8s.io'],
  ['update', 'leases.coordination.k8s.io'],
  ['get', 'streamremediationpolicies.realtime.trayb.io'],
  ['create', 'streamremediationpolicies.realtime.trayb.io'],
  ['patch', 'streamremediationpolicies.realtime.trayb.io', 'status'],
];

const DENIED: readonly [string, string, string?][] = [
  // Granted once and never used: the code lists pods per poll and patches the policy status.
  ['get', 'pods'],
  ['watch', 'pods'],
  ['list', 'streamremediationpolicies.realtime.trayb.io'],
  ['watch', 'streamremediationpolicies.realtime.trayb.io'],
  ['update', 'streamremediationpolicies.realtime.trayb.io', 'status'],
  ['get', 'secrets'],
  ['list', 'secrets'],
  ['delete', 'pods'],
  ['create', 'pods'],
  ['update', 'pods'],
  ['patch', 'pods'],
  ['update', 'pods', 'status'],
  ['get', 'deployments.apps'],
  ['patch', 'deployments.apps'],
  ['delete', 'deployments.apps'],
  ['get', 'replicasets.apps'],
  ['delete', 'leases.coordination.k8s.io'],
  ['delete', 'streamremediationpolicies.realtime.trayb.io'],
  ['update', 'streamremediationpolicies.realtime.trayb.io'],
  ['patch', 'streamremediationpolicies.realtime.trayb.io'],
  ['create', 'roles.rbac.authorization.k8s.io'],
  ['create', 'rolebindings.rbac.authorization.k8s.io'],
  ['create', 'serviceaccounts', 'token'],
  ['get', 'configmaps'],
  ['delete', 'events.events.k8s.io'],
];

describe("the controller's ServiceAccount, with the Role rendered from k8s/", () => {
  const titled = (rows: readonly [string, string, string?][]) =>
    rows.map(
      ([verb, resource, sub]) =>
        [`${verb} ${resource}${sub === undefined ? '' : `/${sub}`}`, verb, resource, sub] as const,
    );

  it.each(titled(NEEDED))('may %s', async (_title, verb, resource, subresource) => {
    expect(await canI(verb, resource, subresource === undefined ? {} : { subresource })).toBe('yes');
  });

  it.each(titled(DENIED))('may not %s', async (_title, verb, resource, subresource) => {
    expect(await canI(verb, resource, subresource === undefined ? {} : { subresource })).toBe('no');
  });

  it('has nothing in any other namespace, nor cluster-wide', async () => {
    for (const [verb, resource] of [
      ['list', 'pods'],
      ['create', 'events.events.k8s.io'],
      ['get', 'leases.coordination.k8s.io'],
    ] as const) {
      expect(await canI(verb, resource, { ns: elsewhere }), `${verb} ${resource} in ${elsewhere}`).toBe('no');
      expect(await canI(verb, resource, { ns: '*' }), `${verb} ${resource} in all namespaces`).toBe('no');
    }
    expect(await canI('create', 'pods', { ns: elsewhere, subresource: 'eviction' })).toBe('no');
    for (const [verb, resource] of [
      ['list', 'namespaces'],
      ['list', 'nodes'],
      ['create', 'clusterrolebindings.rbac.authorization.k8s.io'],
      ['get', 'customresourcedefinitions.apiextensions.k8s.io'],
    ] as const) {
      expect(await canI(verb, resource), `${verb} ${resource}`).toBe('no');
    }
  });

  describe('with the rollout-restart component', () => {
    beforeAll(async () => {
      await applyObjects(kubeconfigPath, controllerRbac(namespace, 'base/rbac/rollout-restart'));
    });

    it('may read pods and ReplicaSets and patch the service Deployment, and no more', async () => {
      expect(await canI('get', 'pods')).toBe('yes');
      expect(await canI('patch', 'deployments.apps', { name: 'trayb-realtime' })).toBe('yes');
      expect(await canI('get', 'deployments.apps', { name: 'trayb-realtime' })).toBe('no');
      expect(await canI('get', 'replicasets.apps')).toBe('yes');
      expect(await canI('patch', 'deployments.apps', { name: 'trayb-realtime-controller' })).toBe('no');
      expect(await canI('delete', 'deployments.apps', { name: 'trayb-realtime' })).toBe('no');
      expect(await canI('patch', 'deployments.apps', { name: 'trayb-realtime', ns: elsewhere })).toBe('no');
      expect(await canI('delete', 'pods')).toBe('no');
    });
  });

  describe('with the delete-pod component', () => {
    beforeAll(async () => {
      await applyObjects(kubeconfigPath, controllerRbac(namespace, 'base/rbac/delete-pod'));
    });

    it('may delete pods here, and nowhere else', async () => {
      expect(await canI('delete', 'pods')).toBe('yes');
      expect(await canI('delete', 'pods', { ns: elsewhere })).toBe('no');
      expect(await canI('delete', 'deployments.apps')).toBe('no');
    });
  });
});
