// Finds Kubernetes credentials: in-cluster (service account) first, then KUBECONFIG or
// ~/.kube/config. None found means local development: the controller runs observe-only.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export function loadKubeConfig(env: Readonly<Record<string, string | undefined>>): KubeConfig | undefined {
  const config = new KubeConfig();
  if (env['KUBERNETES_SERVICE_HOST'] !== undefined && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    config.loadFromCluster();
    return config;
  }
  const files = (env['KUBECONFIG'] ?? '').split(':').filter((f) => f !== '' && existsSync(f));
  const home = join(env['HOME'] ?? homedir(), '.kube', 'config');
  if (files.length === 0 && !existsSync(home)) return undefined;
  // loadFromDefault would silently fall back to http://localhost:8080; only use it when a file exists.
  config.loadFromDefault();
  return config;
}
