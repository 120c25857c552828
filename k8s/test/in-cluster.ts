// The bundle's parts put into a real (test) apiserver: the controller's ServiceAccount, Role
// and RoleBinding exactly as kustomize renders them from k8s/, moved into a namespace of the
// test's choosing, and a kubeconfig that authenticates as that ServiceAccount with a token
// the apiserver minted, so a suite sees what the controller's identity may really do.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { kubectl } from '#test-support/kube';
import { k8sDir, workspace, type KubeObject } from './render.ts';

export const CONTROLLER_ACCOUNT = 'trayb-realtime-controller';
export const CRD_FILE = join(k8sDir, 'base/crd/realtime.trayb.io_streamremediationpolicies.yaml');

const RBAC_KINDS = new Set(['ServiceAccount', 'Role', 'RoleBinding']);

/**
 * The controller's RBAC objects as kustomize renders them: from the default stack, or with a
 * component (e.g. base/rbac/rollout-restart) on top. Moved into `namespace`, subjects too.
 */
export function controllerRbac(namespace: string, component?: string): KubeObject[] {
  const ws = workspace();
  try {
    const objects = component === undefined ? ws.render('.') : ws.renderComponent(component);
    return objects
      .filter((o) => RBAC_KINDS.has(o.kind) && o.metadata.name.startsWith(CONTROLLER_ACCOUNT))
      .map((o) => {
        const moved: KubeObject = { ...o, metadata: { ...o.metadata, namespace } };
        if (o.kind === 'RoleBinding') {
          moved['subjects'] = (o['subjects'] as { namespace?: string }[]).map((s) => ({ ...s, namespace }));
        }
        return moved;
      });
  } finally {
    ws.dispose();
  }
}

/** `kubectl apply -f -` of plain objects; throws with kubectl's stderr on failure. */
export async function applyObjects(
  kubeconfigPath: string,
  objects: readonly KubeObject[],
  extra: readonly string[] = [],
): Promise<void> {
  const result = await kubectl(
    kubeconfigPath,
    ['apply', ...extra, '-f', '-'],
    objects.map((o) => JSON.stringify(o)).join('\n'),
  );
  if (result.code !== 0) throw new Error(`kubectl apply failed: ${result.stderr}`);
}

/** Applies the committed CRD (idempotent) and waits until it is served. */
export async function installCrd(kubeconfigPath: string): Promise<void> {
  const crd = parseAllDocuments(readFileSync(CRD_FILE, 'utf8')).map((d) => d.toJSON() as KubeObject);
  await applyObjects(kubeconfigPath, crd, ['--server-side']);
  const name = crd[0]?.metadata.name ?? '';
  const waited = await kubectl(kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', `crd/${name}`]);
  if (waited.code !== 0) throw new Error(`CRD ${name} not Established: ${waited.stderr}`);
}

/** A KubeConfig that authenticates as the ServiceAccount with a freshly minted token. */
export async function serviceAccountConfig(admin: KubeConfig, namespace: string, account: string): Promise<KubeConfig> {
  const core = admin.makeApiClient(CoreV1Api);
  const minted = await core.createNamespacedServiceAccountToken({
    name: account,
    namespace,
    body: { spec: { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3600 } },
  });
  const token = minted.status?.token;
  if (!token) throw new Error(`no token minted for ${namespace}/${account}`);
  const cluster = admin.getCurrentCluster();
  if (cluster === null) throw new Error('the admin kubeconfig has no current cluster');
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: account, token }],
    contexts: [{ name: account, cluster: cluster.name, user: account, namespace }],
    currentContext: account,
  });
  return config;
}
