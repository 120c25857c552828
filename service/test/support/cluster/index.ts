// Owns the real-cluster test harness: a two-node Kubernetes cluster with real containers on
// this machine (up.sh, down.sh, built by build.sh; see up.sh for what runs where), and the
// ways a test reaches into it: kubectl as the cluster's admin, and a container's own network
// namespace for faults. Everything lives in one network namespace, so every command that
// talks to the cluster runs through nsenter. Suites named *.cluster.test.ts run with
// `npm run test:cluster`.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Cluster {
  /** The folder up.sh filled: logs/, pki/, one folder per node. */
  readonly dir: string;
  readonly nodes: readonly string[];
  /** up.sh's own progress lines (what was built, how long each stage took). */
  readonly startup: readonly string[];
  /** kubectl as the cluster admin; resolves with the exit code, never rejects on a non-zero one. */
  kubectl(args: readonly string[], input?: string): Promise<KubectlResult>;
  /** kubectl that must succeed: its stdout, or an error with its stderr. */
  kubectlOk(args: readonly string[], input?: string): Promise<string>;
  /** Runs a command inside the network namespace of a running container (its own, not the node's). */
  inContainerNetwork(namespace: string, pod: string, command: readonly string[]): Promise<string>;
  /** Stops everything up.sh started and removes what it made (down.sh); throws if anything is left. */
  stop(): Promise<void>;
}

function execResult(
  command: string,
  args: readonly string[],
  input?: string,
  timeoutMs = 180_000,
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 64 << 20, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(new Error(`${command} ${args.join(' ')} did not complete: ${error.message}`, { cause: error }));
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** Builds what is missing (cached per version), starts the cluster, and hands back its handle. */
export async function startCluster(): Promise<Cluster> {
  const dir = await mkdtemp(join(tmpdir(), 'trayb-cluster-'));
  const down = async () => {
    const result = await execResult('bash', [join(here, 'down.sh'), dir], undefined, 300_000);
    if (result.code !== 0) throw new Error(`down.sh left something behind:\n${result.stderr}`);
  };
  const up = await execResult('bash', [join(here, 'up.sh'), dir], undefined, 3_600_000);
  if (up.code !== 0) {
    const log = up.stderr.split('\n').slice(-40).join('\n');
    await down().catch(() => undefined);
    throw new Error(`up.sh failed (${up.code}):\n${log}`);
  }
  const env = parseEnv(await readFile(join(dir, 'cluster.env'), 'utf8'));
  const netns = `--net=/run/netns/${env['NETNS']}`;
  const kubectl = (args: readonly string[], input?: string) =>
    execResult('nsenter', [netns, 'kubectl', '--kubeconfig', env['KUBECONFIG']!, ...args], input);
  const kubectlOk = async (args: readonly string[], input?: string) => {
    const result = await kubectl(args, input);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  };
  return {
    dir,
    nodes: (env['NODES'] ?? '').split(' '),
    startup: up.stderr.split('\n').filter((line) => line.startsWith('cluster-')),
    kubectl,
    kubectlOk,
    async inContainerNetwork(namespace, pod, command) {
      const status = JSON.parse(await kubectlOk(['-n', namespace, 'get', 'pod', pod, '-o', 'json'])) as {
        spec: { nodeName: string };
        status: { containerStatuses: { containerID: string }[] };
      };
      const id = status.status.containerStatuses[0]!.containerID.replace(/^containerd:\/\//, '');
      // containerd records each task's PID in its state folder.
      const taskDir = join(dir, status.spec.nodeName, 'containerd/state/io.containerd.runtime.v2.task/k8s.io', id);
      const pid = (await readFile(join(taskDir, 'init.pid'), 'utf8')).trim();
      const { stdout } = await run('nsenter', [`--net=/proc/${pid}/ns/net`, ...command]);
      return stdout;
    },
    stop: down,
  };
}
