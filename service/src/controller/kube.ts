// The ClusterPort implemented with @kubernetes/client-node 2.x (object-parameter API).
// Patch calls set their Content-Type explicitly: the generated client would otherwise
// pick JSON Patch, which these bodies are not.
import {
  AppsV1Api,
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  PatchStrategy,
  V1MicroTime,
  setHeaderOptions,
  type KubeConfig,
  type V1Lease,
  type V1Pod,
} from '@kubernetes/client-node';
import type { ClusterEvent, ClusterPort, EvictionResult, LeaseRecord, ObjectRef, PolicyObject } from './cluster.ts';
import { EventSeries } from './event-series.ts';
import type { PodView } from './model.ts';
import {
  POLICY_GROUP,
  POLICY_KIND,
  POLICY_PLURAL,
  POLICY_VERSION,
  type PolicySpec,
  type PolicyStatus,
} from './policy.ts';

export const REPORTING_CONTROLLER = 'realtime.trayb.io/stream-remediation-controller';

/** Labels of a policy the controller created itself, so `kubectl get srp -l` can tell it from one an operator wrote. */
export const POLICY_LABELS = {
  'app.kubernetes.io/name': 'trayb-realtime',
  'app.kubernetes.io/component': 'controller',
  'app.kubernetes.io/managed-by': 'trayb-realtime-controller',
};

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : undefined;
}

/**
 * Makes an API call whose one expected refusal is an answer, not a failure: 404 (the object
 * is absent), 409 (another writer won the race) or 429 (a PodDisruptionBudget does not allow
 * the eviction now). That status resolves to `answer`; every other error is thrown.
 */
async function callOr<T, A>(status: 404 | 409 | 429, answer: A, call: () => Promise<T>): Promise<T | A> {
  try {
    return await call();
  } catch (error) {
    if (statusOf(error) === status) return answer;
    throw error;
  }
}

function podView(pod: V1Pod): PodView {
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return {
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    ready,
    terminating: pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null,
  };
}

function time(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * `<object>.<hex time><hex random>`, the way client-go names Events. Not generateName
 * `<object>.`: the apiserver (1.37) rejects a generateName that does not end in an
 * alphanumeric, so every Event write failed with 422.
 */
function eventName(object: string, now = Date.now()): string {
  const random = Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `${object}.${now.toString(16)}${random}`;
}

function leaseRecord(lease: V1Lease): LeaseRecord {
  return {
    holderIdentity: lease.spec?.holderIdentity,
    acquireTime: time(lease.spec?.acquireTime),
    renewTime: time(lease.spec?.renewTime),
    leaseDurationMs: (lease.spec?.leaseDurationSeconds ?? 15) * 1000,
    leaseTransitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion,
  };
}

export class KubeCluster implements ClusterPort {
  readonly #namespace: string;
  readonly #identity: string;
  readonly #core: CoreV1Api;
  readonly #apps: AppsV1Api;
  readonly #events: EventsV1Api;
  readonly #coordination: CoordinationV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #series = new EventSeries();

  constructor(config: KubeConfig, namespace: string, identity: string) {
    this.#namespace = namespace;
    this.#identity = identity;
    this.#core = config.makeApiClient(CoreV1Api);
    this.#apps = config.makeApiClient(AppsV1Api);
    this.#events = config.makeApiClient(EventsV1Api);
    this.#coordination = config.makeApiClient(CoordinationV1Api);
    this.#custom = config.makeApiClient(CustomObjectsApi);
  }

  async listPods(selector: string): Promise<PodView[]> {
    const list = await this.#core.listNamespacedPod({ namespace: this.#namespace, labelSelector: selector });
    return list.items.map(podView);
  }

  async evictPod(pod: string, uid: string | undefined): Promise<EvictionResult> {
    // Refused: a PodDisruptionBudget does not allow the disruption right now. Try again later.
    return callOr(429, 'refused' as const, async () => {
      await this.#core.createNamespacedPodEviction({
        name: pod,
        namespace: this.#namespace,
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: pod, namespace: this.#namespace },
          ...(uid === undefined ? {} : { deleteOptions: { preconditions: { uid } } }),
        },
      });
      return 'evicted' as const;
    });
  }

  async deletePod(pod: string, uid: string | undefined): Promise<void> {
    await this.#core.deleteNamespacedPod({
      name: pod,
      namespace: this.#namespace,
      ...(uid === undefined ? {} : { body: { preconditions: { uid } } }),
    });
  }

  async restartOwningDeployment(pod: string, at: Date): Promise<string> {
    const object = await this.#core.readNamespacedPod({ name: pod, namespace: this.#namespace });
    const replicaSet = object.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet' && o.controller === true);
    if (replicaSet === undefined)
      throw new Error(`pod ${pod} is not owned by a ReplicaSet, so there is no Deployment to restart`);
    const rs = await this.#apps.readNamespacedReplicaSet({ name: replicaSet.name, namespace: this.#namespace });
    const deployment = rs.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment' && o.controller === true);
    if (deployment === undefined) throw new Error(`ReplicaSet ${replicaSet.name} is not owned by a Deployment`);
    // What `kubectl rollout restart` does: a new template annotation makes a new ReplicaSet.
    await this.#apps.patchNamespacedDeployment(
      {
        name: deployment.name,
        namespace: this.#namespace,
        body: {
          spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at.toISOString() } } } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    return deployment.name;
  }

  #reference(ref: ObjectRef) {
    return ref.kind === 'Pod'
      ? { apiVersion: 'v1', kind: 'Pod', name: ref.name, namespace: this.#namespace }
      : {
          apiVersion: `${POLICY_GROUP}/${POLICY_VERSION}`,
          kind: POLICY_KIND,
          name: ref.name,
          namespace: this.#namespace,
        };
  }

  async recordEvent(event: ClusterEvent): Promise<void> {
    const occurrence = this.#series.occurrence(event, Date.now(), () => eventName(event.regarding.name));
    if (occurrence.op === 'patch') {
      const patched = await callOr(404, false, async () => {
        await this.#events.patchNamespacedEvent(
          {
            name: occurrence.name,
            namespace: this.#namespace,
            body: { series: { count: occurrence.count, lastObservedTime: new V1MicroTime() } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return true;
      });
      if (patched) return;
      // The Event expired (its TTL) or was deleted: start a new one.
      this.#series.forget(event);
      await this.recordEvent(event);
      return;
    }
    await this.#events.createNamespacedEvent({
      namespace: this.#namespace,
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: occurrence.name, namespace: this.#namespace },
        eventTime: new V1MicroTime(),
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: this.#identity,
        action: event.action,
        reason: event.reason,
        note: event.note.slice(0, 1000),
        type: event.type,
        regarding: this.#reference(event.regarding),
        ...(event.related === undefined ? {} : { related: this.#reference(event.related) }),
      },
    });
  }

  async readPolicy(name: string): Promise<PolicyObject | undefined> {
    return callOr(404, undefined, async () => {
      const object = (await this.#custom.getNamespacedCustomObject({
        group: POLICY_GROUP,
        version: POLICY_VERSION,
        namespace: this.#namespace,
        plural: POLICY_PLURAL,
        name,
      })) as { metadata?: { generation?: number }; spec?: unknown; status?: unknown };
      return { name, generation: object.metadata?.generation, spec: object.spec, status: object.status };
    });
  }

  async createPolicy(name: string, spec: PolicySpec): Promise<boolean> {
    return callOr(409, false, async () => {
      await this.#custom.createNamespacedCustomObject({
        group: POLICY_GROUP,
        version: POLICY_VERSION,
        namespace: this.#namespace,
        plural: POLICY_PLURAL,
        body: {
          apiVersion: `${POLICY_GROUP}/${POLICY_VERSION}`,
          kind: POLICY_KIND,
          metadata: { name, namespace: this.#namespace, labels: POLICY_LABELS },
          spec,
        },
      });
      return true;
    });
  }

  async updatePolicyStatus(name: string, status: PolicyStatus): Promise<void> {
    await this.#custom.patchNamespacedCustomObjectStatus(
      {
        group: POLICY_GROUP,
        version: POLICY_VERSION,
        namespace: this.#namespace,
        plural: POLICY_PLURAL,
        name,
        body: { status },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** Creates the Secret unless one of that name exists, which is left as it is; true when created. */
  async createSecretIfMissing(
    name: string,
    data: Readonly<Record<string, string>>,
    labels: Readonly<Record<string, string>>,
  ): Promise<boolean> {
    return callOr(409, false, async () => {
      await this.#core.createNamespacedSecret({
        namespace: this.#namespace,
        body: {
          metadata: { name, namespace: this.#namespace, labels: { ...labels } },
          type: 'Opaque',
          stringData: { ...data },
        },
      });
      return true;
    });
  }

  async readSecretValue(name: string, key: string): Promise<string | undefined> {
    const secret = await this.#core.readNamespacedSecret({ name, namespace: this.#namespace });
    const encoded = secret.data?.[key];
    return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
  }

  async readLease(name: string): Promise<LeaseRecord | undefined> {
    return callOr(404, undefined, async () =>
      leaseRecord(await this.#coordination.readNamespacedLease({ name, namespace: this.#namespace })),
    );
  }

  #leaseBody(name: string, lease: LeaseRecord): V1Lease {
    const micro = (ms: number | undefined) => (ms === undefined ? undefined : new V1MicroTime(ms));
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: this.#namespace,
        ...(lease.resourceVersion === undefined ? {} : { resourceVersion: lease.resourceVersion }),
      },
      spec: {
        holderIdentity: lease.holderIdentity ?? '',
        leaseDurationSeconds: Math.max(1, Math.round(lease.leaseDurationMs / 1000)),
        leaseTransitions: lease.leaseTransitions,
        ...(lease.acquireTime === undefined ? {} : { acquireTime: micro(lease.acquireTime) }),
        ...(lease.renewTime === undefined ? {} : { renewTime: micro(lease.renewTime) }),
      },
    };
  }

  async createLease(name: string, lease: LeaseRecord): Promise<boolean> {
    return callOr(409, false, async () => {
      await this.#coordination.createNamespacedLease({
        namespace: this.#namespace,
        body: this.#leaseBody(name, lease),
      });
      return true;
    });
  }

  async replaceLease(name: string, lease: LeaseRecord): Promise<boolean> {
    return callOr(409, false, async () => {
      await this.#coordination.replaceNamespacedLease({
        name,
        namespace: this.#namespace,
        body: this.#leaseBody(name, lease),
      });
      return true;
    });
  }
}
