// The stuck-consumer remediation controller: observes every consumer group of the realtime
// stream (observe.ts), decides with a pure function which pod to restart and which groups
// are garbage (decide.ts), and acts through Kubernetes (act.ts, kube.ts) as the single
// leader of a Lease (leader.ts), following a StreamRemediationPolicy (policy.ts, crd.ts)
// or the environment. Entry point: main.ts.
export { decide, recordOutcome, stuckCondition } from './decide.ts';
export { observeStream, destroyGroup } from './observe.ts';
export { Reconciler, type ReconcilerDeps, type TickReport } from './reconciler.ts';
export { LeaderElector, leaseStep } from './leader.ts';
export { KubeCluster } from './kube.ts';
export type { ClusterPort, ClusterEvent, LeaseRecord, PolicyObject } from './cluster.ts';
export { createControllerMetrics, publishObservation } from './metrics.ts';
export { policyCrd, policyCrdYaml, CRD_PATH } from './crd.ts';
export * from './model.ts';
