// A real kube-apiserver for tests, the envtest equivalent without Docker or release
// downloads: a private etcd, a kube-apiserver built from the Go module proxy
// (build-kube-apiserver.sh), both on loopback, RBAC on, and a kubeconfig for an admin in
// system:masters that kubectl and @kubernetes/client-node both read.
//
// No kube-controller-manager, scheduler or kubelet runs: objects are stored, validated,
// admitted and authorized, but nothing reconciles them. Pods stay Pending, Deployments get
// no ReplicaSets, new namespaces get no "default" ServiceAccount, deleted namespaces stay
// Terminating, PodDisruptionBudgets get no status. cluster-fakes.ts writes what tests need.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../free-port.ts';
import { spawnLogged, waitUntilReady, type Child } from './child.ts';
import { kubeControllerManagerBinary, startControllerManager, type ControllerName } from './controller-manager.ts';
import { startEtcd } from './etcd.ts';
import { ADMIN_USER, createApiserverPki, type ApiserverPki } from './pki.ts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const BUILD_SCRIPT = join(here, 'build-kube-apiserver.sh');

export interface KubeApiserver {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** A kubeconfig (context "harness") for the admin user, credentials embedded. */
  readonly kubeconfigPath: string;
  /** Bearer token of the same admin (system:masters). */
  readonly token: string;
  /** PEM of the CA that signed the serving certificate. */
  readonly caPem: string;
  /** Folder with the logs (kube-apiserver.log, etcd.log), keys and etcd data. */
  readonly dir: string;
  /** Stops the controller manager, kube-apiserver, then etcd by PID and deletes dir (kept if KEEP_KUBE_HARNESS=1). */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** A kube-apiserver binary; default KUBE_APISERVER_BIN, else build-kube-apiserver.sh's cached build. */
  readonly binary?: string;
  /** Extra flags, appended last so they override the defaults. */
  readonly extraArgs?: readonly string[];
  readonly readyTimeoutMs?: number;
  /**
   * Controllers to run in a kube-controller-manager beside the apiserver (none by default:
   * then nothing reconciles). E.g. ['disruption-controller'] for computed PDB status.
   */
  readonly controllers?: readonly ControllerName[];
}

/** Path of the cached kube-apiserver, building it first if this machine has none. */
export async function kubeApiserverBinary(): Promise<string> {
  const fromEnv = process.env['KUBE_APISERVER_BIN'];
  if (fromEnv) return fromEnv;
  const { stdout } = await run('bash', [BUILD_SCRIPT, 'kube-apiserver'], { maxBuffer: 1 << 20 });
  const path = stdout.trim().split('\n').at(-1);
  if (!path) throw new Error(`${BUILD_SCRIPT} printed no binary path`);
  return path;
}

function apiserverArgs(pki: ApiserverPki, etcdUrl: string, port: number, dir: string): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--token-auth-file=${pki.tokenFile}`,
    '--authorization-mode=RBAC',
    '--anonymous-auth=false',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccountPrivateKey}`,
    // Allocation range for Service ClusterIPs only; no traffic ever goes there.
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    // Without kube-controller-manager no namespace gets its "default" ServiceAccount, and
    // this plugin would then reject every Pod (envtest disables it for the same reason).
    '--disable-admission-plugins=ServiceAccount',
    // The "kubernetes" Service would get a loopback endpoint, which validation rejects.
    '--endpoint-reconciler-type=none',
    '--v=1',
  ];
}

function readyz(server: string, caPem: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${server}/readyz`,
      { ca: caPem, headers: { authorization: `Bearer ${token}` }, timeout: 2_000 },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function kubeconfig(server: string, pki: ApiserverPki): string {
  const base64 = (path: string) => readFileSync(path).toString('base64');
  // JSON is valid YAML, so kubectl and client-node both read it.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'harness', cluster: { server, 'certificate-authority-data': base64(pki.caCert) } }],
      users: [
        {
          name: ADMIN_USER,
          user: { 'client-certificate-data': base64(pki.adminCert), 'client-key-data': base64(pki.adminKey) },
        },
      ],
      contexts: [{ name: 'harness', context: { cluster: 'harness', user: ADMIN_USER } }],
      'current-context': 'harness',
    },
    null,
    2,
  );
}

export async function startKubeApiserver(options: StartOptions = {}): Promise<KubeApiserver> {
  const binary = options.binary ?? (await kubeApiserverBinary());
  const controllers = options.controllers ?? [];
  const controllerManager = controllers.length > 0 ? await kubeControllerManagerBinary(BUILD_SCRIPT) : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'trayb-kube-'));
  const started: Child[] = [];
  const stopAll = async () => {
    for (const child of started.reverse()) await child.stop();
    if (process.env['KEEP_KUBE_HARNESS'] !== '1') await rm(dir, { recursive: true, force: true });
  };
  try {
    const pki = await createApiserverPki(dir);
    const etcd = await startEtcd(dir);
    started.push(etcd.child);

    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const args = [...apiserverArgs(pki, etcd.url, port, dir), ...(options.extraArgs ?? [])];
    const apiserver = await spawnLogged('kube-apiserver', binary, args, join(dir, 'kube-apiserver.log'));
    started.push(apiserver);
    const caPem = readFileSync(pki.caCert, 'utf8');
    await waitUntilReady(apiserver, () => readyz(server, caPem, pki.adminToken), options.readyTimeoutMs ?? 90_000);

    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig(server, pki), { mode: 0o600 });
    if (controllerManager !== undefined) {
      started.push(
        await startControllerManager({ binary: controllerManager, controllers, kubeconfigPath, pki, caPem, dir }),
      );
    }
    return { server, kubeconfigPath, token: pki.adminToken, caPem, dir, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
