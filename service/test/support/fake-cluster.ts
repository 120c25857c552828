// A recording fake of the ClusterPort for unit tests: pods, a lease store with optimistic
// concurrency, and a log of every call. The real adapter (kube.ts) is for the apiserver suite.
import type {
  ClusterEvent,
  ClusterPort,
  EvictionResult,
  LeaseRecord,
  PolicyObject,
  PodView,
  PolicySpec,
  PolicyStatus,
} from '../../src/controller/index.ts';

export type Call =
  | { op: 'evict' | 'delete' | 'restart'; pod: string }
  | { op: 'event'; event: ClusterEvent }
  | { op: 'status'; name: string; status: PolicyStatus }
  | { op: 'create-policy'; name: string; spec: PolicySpec };

export class FakeCluster implements ClusterPort {
  pods: PodView[] = [];
  calls: Call[] = [];
  /** What the next evictions answer: 'refused' simulates a PodDisruptionBudget (429). */
  evictionAnswer: EvictionResult | Error = 'evicted';
  policy: PolicyObject | undefined;
  secrets = new Map<string, string>();
  readonly leases = new Map<string, LeaseRecord & { resourceVersion: string }>();
  #version = 0;

  static pod(name: string, ready = true, terminating = false): PodView {
    return { name, uid: `uid-${name}`, ready, terminating };
  }

  listPods(): Promise<PodView[]> {
    return Promise.resolve(this.pods.map((p) => ({ ...p })));
  }
  evictPod(pod: string, _uid: string | undefined): Promise<EvictionResult> {
    this.calls.push({ op: 'evict', pod });
    if (this.evictionAnswer instanceof Error) return Promise.reject(this.evictionAnswer);
    if (this.evictionAnswer === 'evicted')
      this.pods = this.pods.map((p) => (p.name === pod ? { ...p, terminating: true } : p));
    return Promise.resolve(this.evictionAnswer);
  }
  deletePod(pod: string, _uid: string | undefined): Promise<void> {
    this.calls.push({ op: 'delete', pod });
    return Promise.resolve();
  }
  restartOwningDeployment(pod: string): Promise<string> {
    this.calls.push({ op: 'restart', pod });
    return Promise.resolve('trayb-realtime');
  }
  recordEvent(event: ClusterEvent): Promise<void> {
    this.calls.push({ op: 'event', event });
    return Promise.resolve();
  }
  readPolicy(): Promise<PolicyObject | undefined> {
    return Promise.resolve(this.policy);
  }
  createPolicy(name: string, spec: PolicySpec): Promise<boolean> {
    this.calls.push({ op: 'create-policy', name, spec });
    if (this.policy !== undefined) return Promise.resolve(false);
    this.policy = { name, generation: 1, spec, status: undefined };
    return Promise.resolve(true);
  }
  updatePolicyStatus(name: string, status: PolicyStatus): Promise<void> {
    this.calls.push({ op: 'status', name, status });
    if (this.policy !== undefined) this.policy = { ...this.policy, status };
    return Promise.resolve();
  }
  readSecretValue(name: string, key: string): Promise<string | undefined> {
    return Promise.resolve(this.secrets.get(`${name}/${key}`));
  }
  readLease(name: string): Promise<LeaseRecord | undefined> {
    const lease = this.leases.get(name);
    return Promise.resolve(lease === undefined ? undefined : { ...lease });
  }
  createLease(name: string, lease: LeaseRecord): Promise<boolean> {
    if (this.leases.has(name)) return Promise.resolve(false);
    this.leases.set(name, { ...lease, resourceVersion: String(++this.#version) });
    return Promise.resolve(true);
  }
  replaceLease(name: string, lease: LeaseRecord): Promise<boolean> {
    const current = this.leases.get(name);
    if (current === undefined || current.resourceVersion !== lease.resourceVersion) return Promise.resolve(false);
    this.leases.set(name, { ...lease, resourceVersion: String(++this.#version) });
    return Promise.resolve(true);
  }

  get events(): ClusterEvent[] {
    return this.calls.flatMap((c) => (c.op === 'event' ? [c.event] : []));
  }
  get restarts(): Call[] {
    return this.calls.filter((c) => c.op === 'evict' || c.op === 'delete' || c.op === 'restart');
  }
}
