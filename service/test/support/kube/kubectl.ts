// Clients for a test kube-apiserver: kubectl with the harness kubeconfig (what an operator
// and the bundle's docs use) and @kubernetes/client-node (what the controller uses).
import { execFile } from 'node:child_process';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs kubectl (KUBECTL_BIN, default kubectl on PATH) and resolves with its exit code, never rejecting on a non-zero one. */
export function kubectl(kubeconfigPath: string, args: readonly string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.env['KUBECTL_BIN'] ?? 'kubectl',
      ['--kubeconfig', kubeconfigPath, ...args],
      { maxBuffer: 16 << 20, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          // Not an exit code: kubectl did not run (missing, killed by the timeout).
          reject(new Error(`kubectl ${args.join(' ')} did not complete: ${error.message}`, { cause: error }));
          return;
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

export function kubeConfigFrom(kubeconfigPath: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return config;
}

/** A namespace name unique to this run, so suites sharing one apiserver never collide. */
export function uniqueNamespace(prefix: string): string {
  const suffix = `${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  return `${prefix}-${suffix}`.toLowerCase().slice(0, 63);
}
