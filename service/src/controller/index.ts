// The stuck-consumer remediation controller, the package's second process (main.ts): it
// observes every consumer group of the realtime stream (observe.ts), decides with a pure
// function which pod to restart and which groups are garbage (decide.ts over model.ts), and
// acts through Kubernetes (act.ts, kube.ts) as the single leader of a Lease (leader.ts),
// following a StreamRemediationPolicy (policy.ts, crd.ts, status.ts) or the environment.
// It shares only the contract, config/, redis/ and the metrics listener with the service.
//
// Exported here: the parts main.ts wires together, which the controller's suites wire the same
// way, and the cluster port a fake stands in for.
export { Reconciler } from './reconciler.ts';
export { RedisSource } from './redis-source.ts';
export { LeaderElector } from './leader.ts';
export { KubeCluster } from './kube.ts';
export { createControllerMetrics } from './metrics.ts';
export { observeStream } from './observe.ts';
export {
  POLICY_GROUP,
  POLICY_PLURAL,
  POLICY_VERSION,
  settingsFromConfig,
  type EffectiveSettings,
  type PolicySpec,
  type PolicyStatus,
} from './policy.ts';
export type { ClusterEvent, ClusterPort, EvictionResult, LeaseRecord, PolicyObject } from './cluster.ts';
export type { Action, PodView } from './model.ts';
export { policyCrd, policyCrdYaml, CRD_PATH } from './crd.ts';
