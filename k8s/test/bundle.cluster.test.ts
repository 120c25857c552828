// The bundle on a real cluster with real containers (`npm run test:cluster`): two nodes on
// this machine (#test-support/cluster), `kubectl apply -k k8s` exactly as an operator runs it,
// the image built from the Dockerfile. What no apiserver-only test can show: the image's
// read-only root filesystem and non-root user under the real runtime, the probes, Redis on
// its volume, Service DNS, the controller's in-cluster credentials, and the service's drain
// on SIGTERM, with clients that stream through the Service's ClusterIP from a pod and must
// lose nothing through a stuck consumer, a rollout restart and a node drain.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '#test-support/cluster';
import { signToken } from '../../service/src/auth/tokens.ts';
import { thresholds } from '#contract';
import { k8sDir } from './render.ts';

const NS = 'trayb-realtime';
const CLIENT_NS = 'trayb-clients';
const CLIENTS = 4;
const SERVICE_PODS = 'app.kubernetes.io/name=trayb-realtime,app.kubernetes.io/component=service';

interface Line {
  readonly at: number;
  readonly kind: string;
  readonly client?: number;
  readonly id?: string;
  readonly event?: string;
  readonly status?: number;
}

interface PodJson {
  metadata: { name: string; creationTimestamp: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { nodeName?: string; terminationGracePeriodSeconds?: number };
  status: {
    phase: string;
    conditions?: { type: string; status: string; lastTransitionTime: string }[];
    containerStatuses?: { restartCount: number; ready: boolean }[];
  };
}

let cluster: Cluster;
let producerToken: string;
const published: string[] = [];
/** What happened when, printed at the end: the drills' timelines go into the issue's note. */
const timeline: string[] = [];
const t0 = Date.now();
const mark = (what: string) => timeline.push(`${((Date.now() - t0) / 1000).toFixed(1).padStart(7)} s  ${what}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(1_000);
  }
}

async function pods(namespace: string, selector: string): Promise<PodJson[]> {
  return (
    JSON.parse(await cluster.kubectlOk(['-n', namespace, 'get', 'pods', '-l', selector, '-o', 'json'])) as {
      items: PodJson[];
    }
  ).items;
}
const isReady = (pod: PodJson) =>
  pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
const readySince = (pod: PodJson) =>
  pod.status.conditions?.find((c) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime;

async function clientLines(): Promise<Line[]> {
  const out = await cluster.kubectlOk(['-n', CLIENT_NS, 'logs', 'stream-clients']);
  return out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
}

/** Event ids each client received, in order (shutdown frames carry no id worth keeping). */
async function receivedByClient(): Promise<string[][]> {
  const byClient: string[][] = Array.from({ length: CLIENTS }, () => []);
  for (const line of await clientLines()) {
    if (line.kind === 'event' && line.id !== undefined && line.event !== 'shutdown')
      byClient[line.client!]!.push(line.id);
  }
  return byClient;
}

/** Waits until the bundle's StatefulSet and Deployments have every replica updated and Ready. */
async function everyWorkloadRolledOut(): Promise<void> {
  const workloads = [
    'statefulset/trayb-realtime-redis',
    'deployment/trayb-realtime',
    'deployment/trayb-realtime-controller',
  ];
  await cluster.kubectlOk(['-n', NS, 'rollout', 'status', ...workloads, '--timeout=300s']);
}

/** Publishes through the Service from inside the cluster, each event retried until accepted. */
async function publish(count: number, tag: string, intervalMs = 0): Promise<string[]> {
  const out = await cluster.kubectlOk([
    '-n',
    CLIENT_NS,
    'exec',
    'stream-clients',
    '--',
    'env',
    `TOKEN=${producerToken}`,
    `PUBLISH_INTERVAL_MS=${intervalMs}`,
    'node',
    '/client/stream-client.ts',
    'publish',
    String(count),
    tag,
  ]);
  const ids = out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line)
    .filter((line) => line.kind === 'published')
    .map((line) => line.id!);
  published.push(...ids);
  return ids;
}

/** Every client has every published event exactly once: nothing lost, nothing doubled on resume. */
async function everyClientHasEverything(what: string, timeoutMs = 120_000): Promise<void> {
  await until(
    what,
    async () => {
      const byClient = await receivedByClient();
      return byClient.every((ids) => published.every((id) => ids.includes(id))) ? true : undefined;
    },
    timeoutMs,
  );
  for (const ids of await receivedByClient())
    expect(new Set(ids).size, 'no event delivered twice to one client').toBe(ids.length);
  const resyncs = (await clientLines()).filter((line) => line.event === 'resync');
  expect(resyncs, 'no client was told to resync (its resume point was lost)').toEqual([]);
}

beforeAll(async () => {
  cluster = await startCluster();
  for (const line of cluster.startup) mark(line);
  mark(`cluster up: nodes ${cluster.nodes.join(', ')}`);
  await cluster.kubectlOk(['apply', '-k', k8sDir]);
  mark('kubectl apply -k k8s');
  await everyWorkloadRolledOut();
  mark('every workload rolled out');

  // The development Secret the bundle deploys signs the clients' tokens, as the service verifies them.
  const secret = await cluster.kubectlOk([
    '-n',
    NS,
    'get',
    'secret',
    '-l',
    'trayb.io/insecure-development-secret=true',
    '-o',
    'jsonpath={.items[0].data.jwt-secret}',
  ]);
  const key = Buffer.from(secret, 'base64').toString('utf8');
  producerToken = await signToken(key, { sub: 'cluster-test-producer', role: 'producer' });
  const tokens = await Promise.all(
    Array.from({ length: CLIENTS }, (_, n) => signToken(key, { sub: `cluster-test-client-${n}`, role: 'admin' })),
  );

  // The clients stay on the first node, in their own namespace: Service DNS across namespaces,
  // and `kubectl drain` of the other node never touches them.
  await cluster.kubectlOk(['create', 'namespace', CLIENT_NS]);
  await cluster.kubectlOk([
    '-n',
    CLIENT_NS,
    'create',
    'configmap',
    'stream-client',
    `--from-file=stream-client.ts=${join(import.meta.dirname, 'cluster', 'stream-client.ts')}`,
  ]);
  const image = /newName: (\S+)\s+newTag: (\S+)/.exec(
    readFileSync(join(k8sDir, 'base', 'kustomization.yaml'), 'utf8'),
  )!;
  await cluster.kubectlOk(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stream-clients', namespace: CLIENT_NS },
      spec: {
        nodeName: cluster.nodes[0],
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 1000,
          runAsGroup: 1000,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containers: [
          {
            name: 'clients',
            image: `${image[1]}:${image[2]}`,
            imagePullPolicy: 'Never',
            command: ['node', '/client/stream-client.ts', 'stream'],
            env: [
              { name: 'SERVICE_URL', value: `http://trayb-realtime.${NS}.svc:4001` },
              { name: 'TOKENS', value: tokens.join(',') },
            ],
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            },
            volumeMounts: [{ name: 'client', mountPath: '/client' }],
          },
        ],
        volumes: [{ name: 'client', configMap: { name: 'stream-client' } }],
      },
    }),
  );
  await cluster.kubectlOk(['-n', CLIENT_NS, 'wait', '--for=condition=Ready', 'pod/stream-clients', '--timeout=120s']);
  await until(
    'every client connected',
    async () => {
      const connected = new Set(
        (await clientLines()).filter((l) => l.kind === 'connected' && l.status === 200).map((l) => l.client),
      );
      return connected.size === CLIENTS ? true : undefined;
    },
    60_000,
  );
  mark(`${CLIENTS} clients streaming through the Service from a pod`);
}, 3_600_000);

afterAll(async () => {
  console.log(`real-cluster timeline:\n${timeline.join('\n')}`);
  await cluster?.stop();
}, 600_000);

describe('kubectl apply -k k8s on a real cluster', () => {
  it('every pod becomes Ready: the image as a non-root user on a read-only root filesystem, Redis on its claimed volume, the controller with its in-cluster credentials', async () => {
    const all = await pods(NS, 'app.kubernetes.io/name=trayb-realtime');
    expect(
      all.map((pod) => pod.metadata.name).filter((name) => !isReady(all.find((p) => p.metadata.name === name)!)),
    ).toEqual([]);
    expect(all).toHaveLength(5);

    const service = (await pods(NS, SERVICE_PODS))[0]!.metadata.name;
    expect((await cluster.kubectlOk(['-n', NS, 'exec', service, '--', 'id', '-u'])).trim()).toBe('1000');
    const write = await cluster.kubectl(['-n', NS, 'exec', service, '--', 'touch', '/app/dist/changed']);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toContain('Read-only file system');

    const claim = JSON.parse(
      await cluster.kubectlOk(['-n', NS, 'get', 'pvc', 'data-trayb-realtime-redis-0', '-o', 'json']),
    ) as { status: { phase: string } };
    expect(claim.status.phase).toBe('Bound');

    // Ready=True means the controller read the cluster with its ServiceAccount token and
    // reached Redis by its Service name.
    const policy = await until(
      'the controller to report its policy Ready',
      async () => {
        const status = JSON.parse(
          await cluster.kubectlOk(['-n', NS, 'get', 'streamremediationpolicies', 'trayb-realtime', '-o', 'json']),
        ) as {
          status?: { conditions?: { type: string; status: string; message: string }[] };
        };
        const ready = status.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.status === 'True' ? ready : undefined;
      },
      60_000,
    );
    expect(policy.message).toMatch(/observing 2 consumer groups/);
  });

  it('a client pod streams through the Service: every published event reaches every client once', async () => {
    const ids = await publish(20, 'first');
    expect(ids).toHaveLength(20);
    await everyClientHasEverything('the first 20 events at every client');
    mark('20 events published, every client has them');
  });

  it('a stuck consumer: the controller evicts its pod, the ReplicaSet replaces it, the replacement catches up and no client loses an event', async () => {
    const [stuck] = await pods(NS, SERVICE_PODS);
    const name = stuck!.metadata.name;
    // A real fault that leaves the process answering /healthz (so liveness does not race the
    // controller, as it does for a SIGSTOPped process): the pod's packets to Redis are dropped
    // in its own network namespace. Replies still arrive, so an XREADGROUP already blocked
    // hands the reader the next entries, whose acknowledgements never arrive (they stay
    // pending); later reads never reach Redis (the group falls behind while its consumer idles).
    // One event first, so the reader has just re-issued its blocking read when the fault lands.
    await publish(1, 'before-stuck');
    await cluster.inContainerNetwork(NS, name, [
      'iptables',
      '-A',
      'OUTPUT',
      '-p',
      'tcp',
      '--dport',
      '6379',
      '-j',
      'DROP',
    ]);
    mark(`fault: ${name} can no longer send to Redis`);
    // Traffic goes on, as in production: the stuck group's lag keeps growing.
    const trickle = publish(60, 'stuck', 2_000);

    const group = `realtime-consumers:${name}`;
    let detected = false;
    const evicted = await until(
      'the stuck pod to be evicted',
      async () => {
        if (!detected) {
          const status = JSON.parse(
            await cluster.kubectlOk(['-n', NS, 'get', 'streamremediationpolicies', 'trayb-realtime', '-o', 'json']),
          ) as {
            status?: {
              groups?: {
                group: string;
                oldestPendingAgeSeconds?: number;
                consumerIdleSeconds?: number;
                lag?: number;
              }[];
            };
          };
          const seen = status.status?.groups?.find((g) => g.group === group);
          if ((seen?.oldestPendingAgeSeconds ?? 0) >= thresholds.oldestPendingAgeSeconds) {
            detected = true;
            mark(`detected: ${group} oldest pending ${seen?.oldestPendingAgeSeconds} s in the controller's status`);
          }
        }
        const pod = (await pods(NS, SERVICE_PODS)).find((p) => p.metadata.name === name);
        return pod === undefined || pod.metadata.deletionTimestamp !== undefined ? Date.now() : undefined;
      },
      240_000,
    );
    mark(`evicted: ${name}`);
    const remediated = await cluster.kubectlOk([
      '-n',
      NS,
      'get',
      'events',
      '--field-selector',
      `reason=StuckConsumerRemediated,involvedObject.name=${name}`,
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    expect(remediated).toContain(`group ${group} is stuck`);
    mark(`the controller's Event: ${remediated}`);

    const replacement = await until(
      'a Ready replacement',
      async () => {
        const fresh = (await pods(NS, SERVICE_PODS)).filter(
          (p) => p.metadata.name !== name && Date.parse(p.metadata.creationTimestamp) >= evicted - 5_000 && isReady(p),
        );
        return fresh[0];
      },
      180_000,
    );
    mark(`replacement Ready: ${replacement.metadata.name} (Ready since ${readySince(replacement)})`);

    const gone = await until(
      'the evicted pod to finish terminating',
      async () => ((await pods(NS, SERVICE_PODS)).some((p) => p.metadata.name === name) ? undefined : Date.now()),
      120_000,
    );
    mark(`${name} gone ${((gone - evicted) / 1000).toFixed(1)} s after its eviction`);

    await trickle;
    await everyClientHasEverything('every event at every client after the stuck pod was replaced');
    mark('caught up: every client has every event, none twice, no resync');
  });

  it('kubectl rollout restart: the service drains within its grace period and clients resume with nothing lost', async () => {
    const before = await pods(NS, SERVICE_PODS);
    const grace = before[0]!.spec.terminationGracePeriodSeconds ?? 30;
    const publishing = publish(60, 'rollout', 250);
    await cluster.kubectlOk(['-n', NS, 'rollout', 'restart', 'deployment/trayb-realtime']);
    mark('rollout restart');
    const termination = new Map<string, { deleted: number; gone?: number }>();
    const watch = (async () => {
      while (termination.size < before.length || [...termination.values()].some((t) => t.gone === undefined)) {
        const now = (await pods(NS, SERVICE_PODS).catch(() => [])).map((p) => [p.metadata.name, p] as const);
        for (const old of before) {
          const pod = now.find(([n]) => n === old.metadata.name)?.[1];
          const seen = termination.get(old.metadata.name);
          if (pod?.metadata.deletionTimestamp !== undefined && seen === undefined)
            termination.set(old.metadata.name, { deleted: Date.now() });
          if (pod === undefined && seen !== undefined && seen.gone === undefined) seen.gone = Date.now();
          if (pod === undefined && seen === undefined)
            termination.set(old.metadata.name, { deleted: Date.now(), gone: Date.now() });
        }
        await sleep(500);
      }
    })();
    await cluster.kubectlOk(['-n', NS, 'rollout', 'status', 'deployment/trayb-realtime', '--timeout=300s']);
    await watch;
    mark('rollout complete');
    for (const [pod, t] of termination) {
      mark(`${pod} terminated ${((t.gone! - t.deleted) / 1000).toFixed(1)} s after deletion`);
      expect(t.gone! - t.deleted, `${pod} drained before its ${grace} s grace period ran out`).toBeLessThan(
        grace * 1_000,
      );
    }
    await publishing;
    await everyClientHasEverything('every event at every client after the rollout');
    mark('caught up after the rollout restart');
  });

  it('kubectl drain of a node: the PodDisruptionBudgets hold, pods move to the other node, clients resume with nothing lost', async () => {
    const target = cluster.nodes[1]!;
    const publishing = publish(60, 'drain', 250);
    mark(`drain ${target}`);
    // Only the bundle's pods: the test's own client pod is not what a drain of the app is about.
    await cluster.kubectlOk([
      'drain',
      target,
      '--ignore-daemonsets',
      '--delete-emptydir-data',
      '--pod-selector=app.kubernetes.io/name=trayb-realtime',
      '--timeout=300s',
    ]);
    mark(`drained ${target}`);
    await everyWorkloadRolledOut();
    const after = await pods(NS, 'app.kubernetes.io/name=trayb-realtime');
    expect(after.filter((p) => p.spec.nodeName === target).map((p) => p.metadata.name)).toEqual([]);
    await publishing;
    await everyClientHasEverything('every event at every client after the drain');
    mark('caught up after the drain');
    await cluster.kubectlOk(['uncordon', target]);
  });
});
