// Vitest global setup for `npm run test:k8s`: builds kube-apiserver if this machine has no
// cached build, starts one apiserver for the whole run and hands suites its kubeconfig.
// Suites isolate themselves with their own namespaces (uniqueNamespace).
import type { TestProject } from 'vitest/node';
import { startKubeApiserver, type KubeApiserver } from './kube-apiserver.ts';

let apiserver: KubeApiserver | undefined;

export async function setup(project: TestProject): Promise<void> {
  apiserver = await startKubeApiserver();
  project.provide('kubeconfigPath', apiserver.kubeconfigPath);
  project.provide('kubeServer', apiserver.server);
  project.provide('kubeToken', apiserver.token);
}

export async function teardown(): Promise<void> {
  await apiserver?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfigPath: string;
    kubeServer: string;
    kubeToken: string;
  }
}
