// An optional kube-controller-manager next to the test apiserver, running only the
// controllers a suite asks for (for example the disruption controller, so PodDisruptionBudget
// status is computed as in a cluster rather than written by hand). Built from the same
// wrapper module as kube-apiserver; costs an extra build on the first run on a machine.
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../free-port.ts';
import { spawnLogged, waitUntilReady, type Child } from './child.ts';
import type { ApiserverPki } from './pki.ts';

const run = promisify(execFile);

/** Names as kube-controller-manager's --controllers takes them. */
export type ControllerName =
  | 'disruption-controller'
  | 'namespace-controller'
  | 'serviceaccount-controller'
  | 'garbage-collector-controller'
  | 'deployment-controller'
  | 'replicaset-controller'
  | (string & {});

/** Path of the cached kube-controller-manager, building it first if this machine has none. */
export async function kubeControllerManagerBinary(buildScript: string): Promise<string> {
  const fromEnv = process.env['KUBE_CONTROLLER_MANAGER_BIN'];
  if (fromEnv) return fromEnv;
  const { stdout } = await run('bash', [buildScript, 'kube-controller-manager'], { maxBuffer: 1 << 20 });
  const path = stdout.trim().split('\n').at(-1);
  if (!path) throw new Error(`${buildScript} printed no kube-controller-manager path`);
  return path;
}

function healthz(url: string, caPem: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/healthz`, { ca: caPem, timeout: 2_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export async function startControllerManager(options: {
  readonly binary: string;
  readonly controllers: readonly ControllerName[];
  readonly kubeconfigPath: string;
  readonly pki: ApiserverPki;
  readonly caPem: string;
  readonly dir: string;
}): Promise<Child> {
  const { pki, kubeconfigPath } = options;
  const port = await freePort();
  const child = await spawnLogged(
    'kube-controller-manager',
    options.binary,
    [
      `--kubeconfig=${kubeconfigPath}`,
      `--controllers=${options.controllers.join(',')}`,
      // One instance, nothing to elect; the admin identity instead of per-controller accounts.
      '--leader-elect=false',
      '--use-service-account-credentials=false',
      `--service-account-private-key-file=${pki.serviceAccountPrivateKey}`,
      `--root-ca-file=${pki.caCert}`,
      // Serves only /healthz for the readiness probe, with the harness's own certificate.
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--v=1',
    ],
    join(options.dir, 'kube-controller-manager.log'),
  );
  try {
    await waitUntilReady(child, () => healthz(`https://127.0.0.1:${port}`, options.caPem), 60_000);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return child;
}
