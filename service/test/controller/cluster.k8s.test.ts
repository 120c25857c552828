// The controller against a real kube-apiserver and a real Redis: two replicas wired as
// main.ts wires them (KubeCluster from client-node, LeaderElector on one Lease, Reconciler),
// authenticated as the controller's ServiceAccount with the Role rendered from k8s/, so
// every call also proves the RBAC suffices. Two service pods exist (no kubelet: marked
// Running and Ready by hand); one pod's consumer group is stuck (entries read, never
// acknowledged). Driven round by round with the real clock and short thresholds. Every API
// request the replicas make is recorded, and the last test holds the Role to exactly those.
import { randomUUID } from 'node:crypto';
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  PolicyV1Api,
  type EventsV1Event,
} from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { recordApiCalls, roleGrants } from '../../../k8s/test/api-calls.ts';
import { named } from '../../../k8s/test/manifests.ts';
import {
  applyObjects,
  controllerRbac,
  CONTROLLER_ACCOUNT,
  installCrd,
  serviceAccountConfig,
} from '../../../k8s/test/in-cluster.ts';
import { startThrowawayRedis, type ThrowawayRedis } from '#test-support/throwaway-redis';
import { loadControllerConfig } from '../../src/config/controller.ts';
import {
  KubeCluster,
  LeaderElector,
  createControllerMetrics,
  POLICY_GROUP,
  POLICY_PLURAL,
  POLICY_VERSION,
  settingsFromConfig,
  type PolicyStatus,
  Reconciler,
  RedisSource,
} from '../../src/controller/index.ts';
import { kubeConfigFrom, markPodRunning, setPdbStatus, uniqueNamespace } from '#test-support/kube';

const admin = kubeConfigFrom(inject('kubeconfigPath'));
const core = admin.makeApiClient(CoreV1Api);
const events = admin.makeApiClient(EventsV1Api);
const custom = admin.makeApiClient(CustomObjectsApi);
const coordination = admin.makeApiClient(CoordinationV1Api);
const policyApi = admin.makeApiClient(PolicyV1Api);

const namespace = uniqueNamespace('controller');
const POLICY = 'trayb-realtime';
const PREFIX = 'realtime-consumers';
const SERVICE_LABELS = { 'app.kubernetes.io/name': 'trayb-realtime', 'app.kubernetes.io/component': 'service' };
const streamKey = `test:k8s:${randomUUID()}`;

let redisServer: ThrowawayRedis;
let redis: Redis;
let replicas: Replica[] = [];
/** Every grant the replicas' requests needed, e.g. `core/pods:list`. */
const called = new Set<string>();

type Replica = Awaited<ReturnType<typeof startReplica>>;

/** One controller replica, wired as main.ts wires it; `round()` is one election step and one poll. */
async function startReplica(identity: string) {
  const config = loadControllerConfig({
    POD_NAME: identity,
    POD_NAMESPACE: namespace,
    REDIS_URL: redisServer.url,
    REALTIME_STREAM_KEY: streamKey,
    CONTROLLER_POLICY_NAME: POLICY,
    CONTROLLER_OLDEST_PENDING_AGE_SECONDS: '1',
    CONTROLLER_SUSTAIN_SECONDS: '0',
    CONTROLLER_POD_COOLDOWN_SECONDS: '0',
    CONTROLLER_STREAM_COOLDOWN_SECONDS: '0',
    CONTROLLER_BUDGET_PER_HOUR: '100',
    CONTROLLER_BACKOFF_SECONDS: '300',
    CONTROLLER_DRY_RUN: 'true',
  });
  const cluster = new KubeCluster(
    recordApiCalls(await serviceAccountConfig(admin, namespace, CONTROLLER_ACCOUNT), called),
    config.namespace,
    config.identity,
  );
  const elector = new LeaderElector(cluster, config.lease, config.identity);
  const metrics = createControllerMetrics();
  const source = new RedisSource(config.redis);
  const reconciler = new Reconciler({
    defaults: settingsFromConfig(config, true),
    cluster,
    policyName: config.policyName,
    redis: source,
    metrics,
    log: pino({ level: 'silent' }),
    clock: Date.now,
    isLeader: () => elector.isLeader(Date.now()),
    observeTimeoutMs: 2000,
  });
  return {
    identity,
    cluster,
    elector,
    metrics,
    source,
    async round() {
      await elector.step();
      return reconciler.tick();
    },
  };
}

async function count(counter: Counter, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

async function exists(read: Promise<unknown>): Promise<boolean> {
  try {
    await read;
    return true;
  } catch (error) {
    if (error instanceof ApiException && (error as ApiException<unknown>).code === 404) return false;
    throw error;
  }
}

const podExists = (name: string) => exists(core.readNamespacedPod({ name, namespace }));
const readPolicy = () =>
  custom.getNamespacedCustomObject({
    group: POLICY_GROUP,
    version: POLICY_VERSION,
    namespace,
    plural: POLICY_PLURAL,
    name: POLICY,
  }) as Promise<{
    metadata: { labels?: Record<string, string>; generation?: number };
    spec?: unknown;
    status?: PolicyStatus;
  }>;

async function allEvents(): Promise<EventsV1Event[]> {
  return (await events.listNamespacedEvent({ namespace })).items;
}

async function createServicePod(name: string): Promise<void> {
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: SERVICE_LABELS },
      spec: { containers: [{ name: 'service', image: 'registry.invalid/never-pulled:0' }] },
    },
  });
  await markPodRunning(core, namespace, name);
}

/** Rounds of every replica (leader first, then the rest) until `done`, at most `rounds`. */
async function roundsUntil(done: () => Promise<boolean>, rounds = 20): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    for (const replica of replicas) await replica.round();
    if (await done()) return true;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return false;
}

beforeAll(async () => {
  redisServer = await startThrowawayRedis();
  redis = new Redis(redisServer.url, { protocol: 2 });
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await installCrd(inject('kubeconfigPath'));
  await applyObjects(inject('kubeconfigPath'), controllerRbac(namespace));
  for (const pod of ['svc-a', 'svc-b']) await createServicePod(pod);

  // Both instances' groups get 20 entries; svc-a reads them and never acknowledges (stuck),
  // svc-b reads and acknowledges (healthy).
  for (const pod of ['svc-a', 'svc-b']) await redis.xgroup('CREATE', streamKey, `${PREFIX}:${pod}`, '$', 'MKSTREAM');
  for (let i = 0; i < 20; i++) await redis.xadd(streamKey, '*', 'event', 'match:updated', 'payload', `{"n":${i}}`);
  for (const pod of ['svc-a', 'svc-b']) {
    const reply = (await redis.xreadgroup(
      'GROUP',
      `${PREFIX}:${pod}`,
      pod,
      'COUNT',
      20,
      'STREAMS',
      streamKey,
      '>',
    )) as [string, [string, string[]][]][];
    const ids = reply[0]?.[1].map(([id]) => id) ?? [];
    expect(ids).toHaveLength(20);
    if (pod === 'svc-b') await redis.xack(streamKey, `${PREFIX}:${pod}`, ...ids);
  }
  replicas = [await startReplica('controller-1'), await startReplica('controller-2')];
}, 120_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.source.close()));
  await redis?.quit();
  await redisServer?.stop();
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe('the controller against a real apiserver', () => {
  it('elects one leader of two replicas through the Lease', async () => {
    const [first, second] = replicas;
    expect(await first!.elector.step()).toBe(true);
    expect(await second!.elector.step()).toBe(false);
    const lease = await coordination.readNamespacedLease({ name: 'trayb-realtime-controller', namespace });
    expect(lease.spec?.holderIdentity).toBe('controller-1');
  });

  it('the leader creates the missing policy (empty spec, its labels); the follower does not', async () => {
    await replicas[1]!.round();
    expect(await exists(readPolicy())).toBe(false);
    await replicas[0]!.round();
    const policy = await readPolicy();
    expect(policy.spec ?? {}).toEqual({});
    expect(policy.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('trayb-realtime-controller');
  });

  it('in dry run, only says it would evict the stuck pod: an Event, the status, nothing changed', async () => {
    const said = await roundsUntil(async () => (await readPolicy()).status?.lastRemediation !== undefined);
    expect(said).toBe(true);
    const status = (await readPolicy()).status;
    expect(status?.lastRemediation).toMatchObject({
      pod: 'svc-a',
      group: `${PREFIX}:svc-a`,
      action: 'evict',
      result: 'dry_run',
      dryRun: true,
    });
    expect(status?.groups?.find((g) => g.pod === 'svc-a')).toMatchObject({ pending: 20, stuck: 'oldest_pending_age' });
    expect(await podExists('svc-a')).toBe(true);
    expect(await podExists('svc-b')).toBe(true);

    const dryRuns = (await allEvents()).filter((e) => e.reason === 'StuckConsumerDryRun');
    expect(dryRuns.map((e) => `${e.regarding?.kind}/${e.regarding?.name}`)).toEqual(
      expect.arrayContaining(['Pod/svc-a', `StreamRemediationPolicy/${POLICY}`]),
    );
    expect(
      dryRuns.every((e) => e.reportingInstance === 'controller-1' && /^would restart .*svc-a/.test(e.note ?? '')),
    ).toBe(true);
    expect((await allEvents()).filter((e) => e.reason === 'StuckConsumerRemediated')).toEqual([]);
    expect(await count(replicas[0]!.metrics.remediations, { result: 'dry_run' })).toBeGreaterThan(0);
    expect(await count(replicas[0]!.metrics.remediations, { result: 'done' })).toBe(0);
  });

  it('once the policy turns dry run off, evicts exactly the stuck pod and records it', async () => {
    await custom.patchNamespacedCustomObject({
      group: POLICY_GROUP,
      version: POLICY_VERSION,
      namespace,
      plural: POLICY_PLURAL,
      name: POLICY,
      body: [{ op: 'add', path: '/spec/dryRun', value: false }],
    });
    const evicted = await roundsUntil(async () => !(await podExists('svc-a')));
    expect(evicted).toBe(true);
    expect(await podExists('svc-b')).toBe(true);

    const remediated = (await allEvents()).filter((e) => e.reason === 'StuckConsumerRemediated');
    expect(remediated.map((e) => `${e.regarding?.kind}/${e.regarding?.name}`).sort()).toEqual([
      'Pod/svc-a',
      `StreamRemediationPolicy/${POLICY}`,
    ]);
    expect(remediated.every((e) => e.action === 'Evict' && e.reportingInstance === 'controller-1')).toBe(true);

    await replicas[0]!.round(); // one more poll sees the pod gone and writes the status
    const policy = await readPolicy();
    expect(policy.status?.lastRemediation).toMatchObject({
      pod: 'svc-a',
      action: 'evict',
      reason: 'oldest_pending_age',
      result: 'done',
      dryRun: false,
    });
    expect(policy.status?.observedGeneration).toBe(policy.metadata.generation);
    const conditions = Object.fromEntries((policy.status?.conditions ?? []).map((c) => [c.type, c.status]));
    expect(conditions).toMatchObject({ Ready: 'True', Degraded: 'False' });
    expect(await count(replicas[0]!.metrics.remediations, { action: 'evict', result: 'done' })).toBe(1);
    // The evicted pod's group stays in Redis until collection, but no longer pages anyone.
    const exported = await replicas[0]!.metrics.registry.metrics();
    expect(exported).not.toContain(`group="${PREFIX}:svc-a"`);
    expect(exported).toContain(`realtime_stream_group_pending{group="${PREFIX}:svc-b"}`);
  });

  it('a follower never acted: no Event, no remediation of its own', async () => {
    expect((await allEvents()).filter((e) => e.reportingInstance === 'controller-2')).toEqual([]);
    expect(await count(replicas[1]!.metrics.remediations)).toBe(0);
    expect(await count(replicas[1]!.metrics.skippedRemediations)).toBe(0);
  });

  it('an eviction names the UID it judged, so a same-named replacement is left alone', async () => {
    const current = await core.readNamespacedPod({ name: 'svc-b', namespace });
    const stale = randomUUID(); // the UID of a pod svc-b replaced
    await expect(replicas[0]!.cluster.evictPod('svc-b', stale)).rejects.toThrow(/Precondition failed|409/);
    expect((await core.readNamespacedPod({ name: 'svc-b', namespace })).metadata?.uid).toBe(current.metadata?.uid);
  });

  it('backs off when a PodDisruptionBudget refuses the eviction, keeps the pod and counts it', async () => {
    await policyApi.createNamespacedPodDisruptionBudget({
      namespace,
      body: { metadata: { name: 'service' }, spec: { minAvailable: 1, selector: { matchLabels: SERVICE_LABELS } } },
    });
    await setPdbStatus(policyApi, namespace, 'service', {
      disruptionsAllowed: 0,
      currentHealthy: 1,
      desiredHealthy: 1,
      expectedPods: 2,
    });
    // The pod comes back under the same name (a StatefulSet-like identity): its group is still stuck.
    await createServicePod('svc-a');

    const refused = await roundsUntil(
      async () => (await count(replicas[0]!.metrics.remediations, { result: 'backoff' })) === 1,
    );
    expect(refused).toBe(true);
    expect(await podExists('svc-a')).toBe(true);
    const refusals = (await allEvents()).filter((e) => e.reason === 'RemediationRefused');
    expect(refusals.map((e) => `${e.regarding?.kind}/${e.regarding?.name}`)).toContain('Pod/svc-a');

    // The next polls hold back (once announced) instead of hammering the API, and nothing throws.
    await replicas[0]!.round();
    await replicas[0]!.round();
    expect(await count(replicas[0]!.metrics.skippedRemediations, { reason: 'backing_off' })).toBe(1);
    expect(await count(replicas[0]!.metrics.remediations, { result: 'backoff' })).toBe(1);
    expect(await podExists('svc-a')).toBe(true);
  });

  it('a repeated Event counts on the one Event it repeats, as client-go series do', async () => {
    const repeated = {
      regarding: { kind: 'StreamRemediationPolicy', name: POLICY },
      related: undefined,
      reason: 'RemediationSkipped',
      action: 'Evict',
      note: `repeated note ${randomUUID()}`,
      type: 'Warning',
    } as const;
    for (let i = 0; i < 3; i++) await replicas[0]!.cluster.recordEvent(repeated);
    const written = (await allEvents()).filter((e) => e.note === repeated.note);
    expect(written).toHaveLength(1);
    expect(written[0]?.series?.count).toBe(3);
  });

  it('the Role grants exactly the API calls the replicas made, nothing more', () => {
    const role = named(controllerRbac(namespace), 'Role', CONTROLLER_ACCOUNT);
    expect([...called].sort()).toEqual(roleGrants(role).sort());
  });
});
