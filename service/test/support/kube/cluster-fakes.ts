// What a kubelet and the disruption controller would write, written by hand. The test
// apiserver runs alone, so a Pod stays Pending forever and a PodDisruptionBudget never gets
// a status. That matters for eviction: the API server ignores PDBs for Pending pods (the
// eviction just deletes them), and answers 429 "still being processed" for any Running pod
// covered by a PDB whose status.observedGeneration lags its generation. Tests that want the
// real decision mark the pod Running and Ready and give the PDB the status the controller
// would compute.
import type { CoreV1Api, PolicyV1Api, V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';

/** Sets the pod's status as a kubelet would for a started, ready container. */
export async function markPodRunning(core: CoreV1Api, namespace: string, name: string, ready = true): Promise<V1Pod> {
  const pod = await core.readNamespacedPod({ name, namespace });
  const now = new Date();
  const status = ready ? 'True' : 'False';
  pod.status = {
    ...pod.status,
    phase: 'Running',
    startTime: now,
    conditions: [
      { type: 'Initialized', status: 'True', lastTransitionTime: now },
      { type: 'ContainersReady', status, lastTransitionTime: now },
      { type: 'Ready', status, lastTransitionTime: now },
    ],
  };
  return core.replaceNamespacedPodStatus({ name, namespace, body: pod });
}

export interface PdbStatus {
  readonly disruptionsAllowed: number;
  readonly currentHealthy: number;
  readonly desiredHealthy: number;
  readonly expectedPods: number;
}

/** Writes the status the disruption controller would, marked as observing the current spec. */
export async function setPdbStatus(
  policy: PolicyV1Api,
  namespace: string,
  name: string,
  status: PdbStatus,
): Promise<V1PodDisruptionBudget> {
  const pdb = await policy.readNamespacedPodDisruptionBudget({ name, namespace });
  pdb.status = { ...status, observedGeneration: pdb.metadata?.generation ?? 1 };
  return policy.replaceNamespacedPodDisruptionBudgetStatus({ name, namespace, body: pdb });
}
