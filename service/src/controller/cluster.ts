// The Kubernetes edge as a small port: the handful of calls the controller makes, in
// domain terms. kube.ts implements it with @kubernetes/client-node; unit tests use a
// recording fake; the real-apiserver suite exercises kube.ts itself.
import type { PodView } from './model.ts';
import type { PolicySpec, PolicyStatus } from './policy.ts';

export interface ObjectRef {
  readonly kind: 'Pod' | 'StreamRemediationPolicy';
  readonly name: string;
}

export interface ClusterEvent {
  readonly regarding: ObjectRef;
  readonly related: ObjectRef | undefined;
  /** UpperCamelCase, machine-readable: StuckConsumer, RemediationSkipped, StaleGroupCollected… */
  readonly reason: string;
  /** What was done or would have been done: Evict, Delete, RolloutRestart, DestroyGroup. */
  readonly action: string;
  readonly note: string;
  readonly type: 'Normal' | 'Warning';
}

export interface LeaseRecord {
  readonly holderIdentity: string | undefined;
  readonly acquireTime: number | undefined;
  readonly renewTime: number | undefined;
  readonly leaseDurationMs: number;
  readonly leaseTransitions: number;
  /** Optimistic concurrency: a replace only succeeds against the version it read. */
  readonly resourceVersion: string | undefined;
}

export interface PolicyObject {
  readonly name: string;
  readonly generation: number | undefined;
  readonly spec: unknown;
  readonly status: unknown;
}

/** A refused eviction (HTTP 429: a PodDisruptionBudget forbids it now) is not a failure. */
export type EvictionResult = 'evicted' | 'refused';

export interface ClusterPort {
  listPods(selector: string): Promise<PodView[]>;
  /**
   * Both act only on the pod with `uid` when it is given (a precondition the apiserver checks):
   * a replacement of the same name created since the pod list was read is left alone (409).
   */
  evictPod(pod: string, uid: string | undefined): Promise<EvictionResult>;
  deletePod(pod: string, uid: string | undefined): Promise<void>;
  /** Rollout-restarts the Deployment that owns the pod; returns the Deployment's name. */
  restartOwningDeployment(pod: string, at: Date): Promise<string>;
  recordEvent(event: ClusterEvent): Promise<void>;
  readPolicy(name: string): Promise<PolicyObject | undefined>;
  /** Creates the policy with this spec; false when it already exists (409). */
  createPolicy(name: string, spec: PolicySpec): Promise<boolean>;
  updatePolicyStatus(name: string, status: PolicyStatus): Promise<void>;
  readSecretValue(name: string, key: string): Promise<string | undefined>;
  readLease(name: string): Promise<LeaseRecord | undefined>;
  /** False when someone else created it first (409). */
  createLease(name: string, lease: LeaseRecord): Promise<boolean>;
  /** False when the lease changed since it was read (409). */
  replaceLease(name: string, lease: LeaseRecord): Promise<boolean>;
}
