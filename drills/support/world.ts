// The world a drill runs in, built from the bundle as `kubectl apply -k k8s` renders it: in a
// namespace of the drill's own on the real kube-apiserver (with kube-controller-manager's
// ReplicaSet, Deployment and disruption controllers), the service's Deployment and
// PodDisruptionBudget, the controller's ServiceAccount, Role and RoleBinding and the policy
// CRD; the service pods run as processes through the PodRunner; two controller replicas run
// as processes authenticated as the controller's ServiceAccount, electing a leader on the
// Lease; a private Redis; a real Prometheus that discovers the pods as they come and go,
// scrapes every process each second and evaluates the generated rules; a producer and SSE
// clients that read and resume throughout. The processes' environment is the bundle's
// ConfigMaps; a drill changes only settings (intervals, durations) on top.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  applyObjects,
  controllerRbac,
  CONTROLLER_ACCOUNT,
  installCrd,
  serviceAccountConfig,
} from '../../k8s/test/in-cluster.ts';
import { workspace, type KubeObject } from '../../k8s/test/render.ts';
import { kubeConfigFrom, uniqueNamespace } from '#test-support/kube';
import { TEST_SECRET } from '#test-support/instance';
import { startControllerProcess, type ServiceProcess } from '#test-support/entry-processes';
import { startPrometheus, waitUntil, type RunningPrometheus } from '#test-support/prometheus';
import { startThrowawayRedis, type ThrowawayRedis } from '#test-support/throwaway-redis';
import { PodRunner, type PodRunnerEvent } from './pod-runner.ts';
import { drillRules, type DrillRule } from './alert-rules.ts';
import { Producer, ResumingClient } from './traffic.ts';
import type { Timeline } from './timeline.ts';

/** Job names as the bundle's ServiceMonitors produce them (Prometheus Operator: the Service's name). */
export const SERVICE_JOB = 'trayb-realtime';
export const CONTROLLER_JOB = 'trayb-realtime-controller-metrics';
const SERVICE_SELECTOR = 'app.kubernetes.io/name=trayb-realtime,app.kubernetes.io/component=service';

export interface WorldOptions {
  readonly timeline: Timeline;
  readonly kubeconfigPath: string;
  /**
   * Every rule's `for:` is divided by this (default 24: 2m holds for 5 s). With the bundle's
   * 2m the controller (threshold + 15 s sustain) normally heals a stuck consumer before anyone
   * is paged; divided, the stuck consumer pages first (threshold + 5 s), so a drill also
   * exercises the page and its resolution.
   */
  readonly forFactor?: number;
  readonly clients?: number;
  readonly publishIntervalMs?: number;
  /** Settings on top of the bundle's service ConfigMaps. */
  readonly serviceEnv?: Record<string, string>;
  /** Settings on top of the bundle's controller ConfigMap. */
  readonly controllerEnv?: Record<string, string>;
  /**
   * Also run a controller for a neighbouring namespace (observe-only, same Redis), scraped by
   * the same Prometheus: what a shared Prometheus sees when several installs exist.
   */
  readonly neighbour?: boolean;
}

/**
 * Settings every drill shares: faster polls, lease and drain; the bundle's read block,
 * thresholds, sustain, cooldowns and backoff as shipped.
 */
const SPEED = {
  service: { SSE_DRAIN_WINDOW_MS: '1000', LOG_LEVEL: 'warn' },
  controller: {
    CONTROLLER_POLL_INTERVAL_MS: '1000',
    // client-go's proportions (15/10/2 s) scaled down: renew deadline and retry period
    // must stay below the lease duration.
    CONTROLLER_LEASE_DURATION_SECONDS: '4',
    CONTROLLER_LEASE_RENEW_DEADLINE_SECONDS: '3',
    CONTROLLER_LEASE_RETRY_PERIOD_SECONDS: '1',
    LOG_LEVEL: 'warn',
  },
};

function configMapData(objects: readonly KubeObject[], prefix: string): Record<string, string> {
  const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(prefix));
  if (map === undefined) throw new Error(`the bundle renders no ConfigMap ${prefix}-*`);
  const data = { ...(map['data'] as Record<string, string>) };
  // Each process gets its own loopback ports; the bundle's fixed ones would collide.
  delete data['PORT'];
  delete data['METRICS_PORT'];
  return data;
}

function serviceObject(objects: readonly KubeObject[], kind: string, namespace: string): KubeObject {
  const object = objects.find(
    (o) => o.kind === kind && o.metadata.labels?.['app.kubernetes.io/component'] === 'service',
  );
  if (object === undefined) throw new Error(`the bundle renders no service ${kind}`);
  return { ...object, metadata: { ...object.metadata, namespace } };
}

let writes = 0;

/** Prometheus watches target files: a rename is one atomic change, never a half-written file. */
async function writeAtomically(file: string, content: string): Promise<void> {
  const temporary = `${file}.${writes++}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}

export class DrillWorld {
  readonly namespace: string;
  readonly timeline: Timeline;
  readonly admin: KubeConfig;
  readonly core: CoreV1Api;
  readonly rules: DrillRule[] = [];
  redis!: ThrowawayRedis;
  runner!: PodRunner;
  prometheus!: RunningPrometheus;
  producer!: Producer;
  readonly clients: ResumingClient[] = [];
  /** Controller replicas by identity; a drill may kill them. */
  readonly controllers = new Map<string, ServiceProcess>();
  /** Pods the runner reported, in order, with what happened to them. */
  readonly podEvents: (PodRunnerEvent & { at: number })[] = [];
  readonly #options: WorldOptions;
  #dir = '';
  #next = 0;
  #controllerEnv: Record<string, string> = {};
  #controllerTargets = '';
  #targetsWritten: Promise<void> = Promise.resolve();
  /** Processes outside the drill's namespace (the neighbour's controller). */
  readonly #extra: ServiceProcess[] = [];

  constructor(options: WorldOptions) {
    this.#options = options;
    this.timeline = options.timeline;
    this.namespace = uniqueNamespace(`drill-${options.timeline.drill}`);
    this.admin = kubeConfigFrom(options.kubeconfigPath);
    this.core = this.admin.makeApiClient(CoreV1Api);
  }

  /** The namespace label of the neighbour's controller (no objects live there). */
  get neighbourNamespace(): string {
    return `${this.namespace}-neighbour`;
  }

  get kubeconfigPath(): string {
    return this.#options.kubeconfigPath;
  }

  /** A Ready pod's base URL, round robin, as the Service would route; undefined while none is. */
  readonly endpoint = (): string | undefined => {
    const ready = this.runner.readyPods();
    if (ready.length === 0) return undefined;
    const pod = ready[this.#next++ % ready.length] ?? '';
    return this.runner.process(pod)?.url;
  };

  /** The pod behind a base URL. */
  podAt(url: string | undefined): string | undefined {
    return this.runner.runningPods().find((pod) => this.runner.process(pod)?.url === url);
  }

  async start(): Promise<void> {
    const { kubeconfigPath } = this.#options;
    this.#dir = await mkdtemp(join(tmpdir(), 'trayb-drill-'));
    const ws = workspace();
    let bundle: KubeObject[];
    try {
      bundle = ws.render('.');
    } finally {
      ws.dispose();
    }
    await this.core.createNamespace({ body: { metadata: { name: this.namespace } } });
    await installCrd(kubeconfigPath);
    await applyObjects(kubeconfigPath, controllerRbac(this.namespace));

    this.redis = await startThrowawayRedis({ appendOnly: true });
    const serviceEnv = {
      ...configMapData(bundle, 'trayb-realtime-stream'),
      ...configMapData(bundle, 'trayb-realtime-service'),
      REDIS_URL: this.redis.url,
      AUTH_JWT_SECRET: TEST_SECRET,
      ...SPEED.service,
      ...this.#options.serviceEnv,
    };
    this.timeline.settings['service'] = JSON.stringify({ ...SPEED.service, ...this.#options.serviceEnv });

    const targetsFile = join(this.#dir, 'service-targets.json');
    await writeFile(targetsFile, '[]');
    this.runner = new PodRunner({
      core: this.core,
      namespace: this.namespace,
      labelSelector: SERVICE_SELECTOR,
      env: () => serviceEnv,
      maxGraceMs: 10_000,
      onEvent: (event) => {
        this.podEvents.push({ ...event, at: Date.now() });
        // One write after another, in event order; none after the world is gone.
        if (event.kind === 'started' || event.kind === 'terminating')
          this.#targetsWritten = this.#targetsWritten
            .then(() => this.#writeTargets(targetsFile))
            .catch(() => undefined);
      },
    });
    this.runner.start();
    await applyObjects(kubeconfigPath, [
      serviceObject(bundle, 'Deployment', this.namespace),
      serviceObject(bundle, 'PodDisruptionBudget', this.namespace),
    ]);

    const kubeconfig = await serviceAccountConfig(this.admin, this.namespace, CONTROLLER_ACCOUNT);
    await writeFile(join(this.#dir, 'controller.kubeconfig'), kubeconfig.exportConfig(), { mode: 0o600 });
    this.#controllerEnv = {
      ...configMapData(bundle, 'trayb-realtime-stream'),
      ...configMapData(bundle, 'trayb-realtime-controller'),
      KUBECONFIG: join(this.#dir, 'controller.kubeconfig'),
      POD_NAMESPACE: this.namespace,
      REDIS_URL: this.redis.url,
      ...SPEED.controller,
      ...this.#options.controllerEnv,
    };
    this.timeline.settings['controller'] = JSON.stringify({ ...SPEED.controller, ...this.#options.controllerEnv });
    this.#controllerTargets = join(this.#dir, 'controller-targets.json');
    for (const identity of ['controller-0', 'controller-1']) await this.startController(identity);
    const neighbourTargets = [];
    if (this.#options.neighbour === true) {
      const neighbour = await startControllerProcess(
        {
          ...this.#controllerEnv,
          KUBECONFIG: '',
          POD_NAME: 'neighbour-controller',
          POD_NAMESPACE: this.neighbourNamespace,
        },
        this.#dir,
      );
      this.#extra.push(neighbour);
      neighbourTargets.push({
        job: CONTROLLER_JOB,
        address: neighbour.metricsAddress,
        labels: { namespace: this.neighbourNamespace, pod: 'neighbour-controller' },
      });
    }

    const factor = this.#options.forFactor ?? 24;
    const { yaml, rules } = drillRules(factor);
    this.rules.push(...rules);
    this.timeline.settings['alert for: divided by'] = String(factor);
    this.prometheus = await startPrometheus({
      targets: neighbourTargets,
      discoveredJobs: [
        { job: SERVICE_JOB, file: targetsFile },
        { job: CONTROLLER_JOB, file: this.#controllerTargets },
      ],
      ruleFiles: [yaml],
    });

    await this.waitForReadyPods(2, 120_000);
    await this.prometheus.waitForTargetsUp(60_000);
    this.producer = new Producer(this.endpoint, { intervalMs: this.#options.publishIntervalMs ?? 100 });
    for (let i = 0; i < (this.#options.clients ?? 4); i++) {
      const client = new ResumingClient(`client-${i}`, this.endpoint);
      this.clients.push(client);
      client.start();
    }
    await waitUntil('every client connected', 30_000, async () =>
      this.clients.every((c) => c.connectedTo !== undefined) ? true : undefined,
    );
    this.producer.start();
  }

  /**
   * Starts one more controller replica as a process with the ServiceAccount's kubeconfig. Every
   * replica ever started stays a scrape target (a crashed pod's endpoint stays until it is gone).
   */
  async startController(identity: string): Promise<ServiceProcess> {
    const process = await startControllerProcess({ ...this.#controllerEnv, POD_NAME: identity }, this.#dir);
    this.controllers.set(identity, process);
    const targets = [...this.controllers].map(([pod, p]) => ({
      targets: [p.metricsAddress],
      labels: { namespace: this.namespace, pod },
    }));
    await writeAtomically(this.#controllerTargets, JSON.stringify(targets));
    return process;
  }

  async waitForReadyPods(count: number, timeoutMs: number): Promise<string[]> {
    return waitUntil(`${count} Ready service pods`, timeoutMs, async () => {
      const ready = this.runner.readyPods();
      return ready.length >= count ? ready : undefined;
    });
  }

  /** Alerts pending or firing in this drill's namespace. */
  async alerts(): Promise<{ labels: Record<string, string>; state: string }[]> {
    return (await this.prometheus.alerts()).filter((a) => a.labels['namespace'] === this.namespace);
  }

  async #writeTargets(file: string): Promise<void> {
    const targets = this.runner.runningPods().map((pod) => ({
      targets: [this.runner.process(pod)?.metricsAddress ?? ''],
      labels: { namespace: this.namespace, pod },
    }));
    await writeAtomically(file, JSON.stringify(targets));
  }

  /** Stops traffic, then every process, Prometheus and Redis; deletes the namespace. */
  async stop(): Promise<void> {
    await this.producer?.stop();
    await Promise.all(this.clients.map((c) => c.stop()));
    await this.prometheus?.stop();
    await Promise.all([...this.controllers.values(), ...this.#extra].map((c) => c.stop()));
    await this.runner?.stop();
    await this.#targetsWritten;
    await this.redis?.stop();
    await this.core.deleteNamespace({ name: this.namespace }).catch(() => undefined);
    if (this.#dir !== '') await rm(this.#dir, { recursive: true, force: true });
  }
}
