// Vitest global setup for `npm run test:drills`: one kube-apiserver for the run, with the
// kube-controller-manager controllers a drill needs to behave like a cluster (ReplicaSets
// replace evicted Pods, Deployments roll, PodDisruptionBudgets get their status computed).
// Each drill works in namespaces of its own.
import type { TestProject } from 'vitest/node';
import { startKubeApiserver, type KubeApiserver } from '#test-support/kube';

let apiserver: KubeApiserver | undefined;

export async function setup(project: TestProject): Promise<void> {
  apiserver = await startKubeApiserver({
    controllers: ['replicaset-controller', 'deployment-controller', 'disruption-controller'],
  });
  project.provide('kubeconfigPath', apiserver.kubeconfigPath);
}

export async function teardown(): Promise<void> {
  await apiserver?.stop();
}
