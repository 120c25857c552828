// The kubelet's part in a drill, and only that part: a test-only runner that keeps one
// service process per Pod of the service's ReplicaSets in the real kube-apiserver. A Pod that
// appears gets a process with POD_NAME = the Pod's name; a Pod that is deleted or evicted gets
// SIGTERM, then SIGKILL after its termination grace (as a kubelet does: a frozen process is
// never SIGCONTed); the Pod's Ready condition follows the process's /readyz, probed like the
// bundle's readinessProbe. kube-controller-manager does the rest (ReplicaSets replace evicted
// Pods, Deployments roll, the disruption controller computes PodDisruptionBudget status).
// It polls the Pod list rather than holding a watch: a drill needs a reaction within a second,
// and a poll has no reconnect logic to get wrong.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { markPodRunning } from '#test-support/kube';
import { startServiceProcess, type ServiceProcess } from '#test-support/entry-processes';

export interface PodRunnerOptions {
  readonly core: CoreV1Api;
  readonly namespace: string;
  readonly labelSelector: string;
  /** The container's environment for one Pod (POD_NAME is added). */
  readonly env: (pod: string) => Record<string, string>;
  /** Upper bound on a Pod's terminationGracePeriodSeconds, so a frozen process is killed in drill time. */
  readonly maxGraceMs: number;
  readonly pollMs?: number;
  /** Called with what happened to a Pod, for the drill's timeline. */
  readonly onEvent?: (event: PodRunnerEvent) => void;
}

export type PodRunnerEvent =
  | { readonly kind: 'started' | 'ready' | 'not_ready' | 'terminating' | 'exited'; readonly pod: string }
  | { readonly kind: 'start_failed'; readonly pod: string; readonly error: string };

interface RunningPod {
  readonly name: string;
  /** Resolves once /readyz answered 200 the first time (startServiceProcess waits for it). */
  readonly starting: Promise<ServiceProcess | undefined>;
  process: ServiceProcess | undefined;
  reportedReady: boolean | undefined;
  terminating: boolean;
}

export class PodRunner {
  readonly #options: PodRunnerOptions;
  readonly #pods = new Map<string, RunningPod>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #pass: Promise<void> = Promise.resolve();

  constructor(options: PodRunnerOptions) {
    this.#options = options;
  }

  start(): void {
    const loop = () => {
      if (this.#stopped) return;
      this.#pass = this.#reconcile().catch(() => undefined);
      void this.#pass.then(() => {
        if (!this.#stopped) this.#timer = setTimeout(loop, this.#options.pollMs ?? 250);
      });
    };
    loop();
  }

  /** The process of a Pod that is running (started and not terminating), if any. */
  process(pod: string): ServiceProcess | undefined {
    const running = this.#pods.get(pod);
    return running === undefined || running.terminating ? undefined : running.process;
  }

  /** Pods whose process is running and last reported Ready: the Service's endpoints. */
  readyPods(): string[] {
    return [...this.#pods.values()]
      .filter((p) => !p.terminating && p.process !== undefined && p.reportedReady === true)
      .map((p) => p.name)
      .sort();
  }

  /** Every Pod with a live process, ready or not. */
  runningPods(): string[] {
    return [...this.#pods.values()].filter((p) => !p.terminating && p.process !== undefined).map((p) => p.name);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#pass;
    await Promise.all([...this.#pods.values()].map((p) => this.#terminate(p, 0)));
  }

  async #reconcile(): Promise<void> {
    const { core, namespace, labelSelector } = this.#options;
    const list = await core.listNamespacedPod({ namespace, labelSelector });
    const live = new Map<string, V1Pod>();
    for (const pod of list.items) {
      const name = pod.metadata?.name;
      if (name !== undefined && pod.metadata?.deletionTimestamp === undefined) live.set(name, pod);
    }
    for (const running of this.#pods.values()) {
      if (!running.terminating && !live.has(running.name)) void this.#terminate(running, this.#options.maxGraceMs);
    }
    for (const [name, pod] of live) {
      if (!this.#pods.has(name)) this.#launch(name, pod);
    }
    await Promise.all(
      [...this.#pods.values()].filter((p) => !p.terminating && p.process !== undefined).map((p) => this.#probe(p)),
    );
  }

  #launch(name: string, pod: V1Pod): void {
    const emit = this.#options.onEvent ?? (() => undefined);
    const graceMs = Math.min(this.#options.maxGraceMs, (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
    const running: RunningPod = {
      name,
      process: undefined,
      reportedReady: undefined,
      terminating: false,
      starting: startServiceProcess({ ...this.#options.env(name), POD_NAME: name }).then(
        (process) => {
          running.process = process;
          emit({ kind: 'started', pod: name });
          // Deleted while it was starting: it goes at once.
          if (running.terminating) void this.#kill(process, graceMs);
          return process;
        },
        (error: unknown) => {
          emit({ kind: 'start_failed', pod: name, error: String(error) });
          return undefined;
        },
      ),
    };
    this.#pods.set(name, running);
  }

  async #probe(running: RunningPod): Promise<void> {
    const process = running.process;
    if (process === undefined) return;
    const ready = await fetch(`${process.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ready === running.reportedReady || running.terminating) return;
    await markPodRunning(this.#options.core, this.#options.namespace, running.name, ready);
    running.reportedReady = ready;
    this.#options.onEvent?.({ kind: ready ? 'ready' : 'not_ready', pod: running.name });
  }

  async #terminate(running: RunningPod, graceMs: number): Promise<void> {
    if (running.terminating) return;
    running.terminating = true;
    this.#options.onEvent?.({ kind: 'terminating', pod: running.name });
    const process = running.process ?? (await running.starting);
    if (process !== undefined) await this.#kill(process, graceMs);
    this.#pods.delete(running.name);
    this.#options.onEvent?.({ kind: 'exited', pod: running.name });
  }

  /** SIGTERM, SIGKILL after the grace: a stopped (SIGSTOP) process is killed, never resumed. */
  async #kill(process: ServiceProcess, graceMs: number): Promise<void> {
    process.signal('SIGTERM');
    const timer = setTimeout(() => process.signal('SIGKILL'), graceMs);
    await process.exitCode;
    clearTimeout(timer);
  }
}
