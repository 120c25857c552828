// One poll of the controller, the imperative shell around decide(): resolve the policy,
// observe Redis and the pods, export metrics, decide, and (as leader) act and write the
// policy status. Everything it talks to is injected, so tests drive it tick by tick with
// their own clock, a real Redis and a fake cluster.
import { once } from 'node:events';
import type { Logger } from 'pino';
import type { RedisClient } from '../redis/index.ts';
import { carryOutCollection, carryOutRemediation, carryOutSkip, type ActContext } from './act.ts';
import type { ClusterPort, PolicyObject } from './cluster.ts';
import { decide, recordOutcome } from './decide.ts';
import { forgetGroups, publishObservation, startRemediationCountersAtZero, type ControllerMetrics } from './metrics.ts';
import type { RemediationResult } from '../contract/index.ts';
import { emptyHistory, type Action, type History, type Observations, type PodView } from './model.ts';
import { observeStream } from './observe.ts';
import { withTimeout } from './timeout.ts';
import { applyPolicySpec, parsePolicySpec, type EffectiveSettings, type PolicyCondition } from './policy.ts';
import type { RedisSource } from './redis-source.ts';
import { policyStatus, remediationsFromStatus } from './status.ts';

export interface ReconcilerDeps {
  readonly defaults: EffectiveSettings;
  readonly cluster: ClusterPort | undefined;
  readonly policyName: string | undefined;
  readonly redis: RedisSource;
  readonly metrics: ControllerMetrics;
  readonly log: Logger;
  readonly clock: () => number;
  /** Whether this replica may act; always true without a cluster (then everything is dry-run). */
  readonly isLeader: () => boolean;
  /** Longest a poll waits for Redis before calling it an outage. */
  readonly observeTimeoutMs: number;
}

export interface TickReport {
  readonly observations: Observations;
  readonly actions: readonly Action[];
  readonly leader: boolean;
  readonly settings: EffectiveSettings;
}

async function observeRedis(redis: RedisClient, settings: EffectiveSettings, timeoutMs: number) {
  const work = (async () => {
    if (redis.status === 'connecting' || redis.status === 'connect' || redis.status === 'wait')
      await once(redis, 'ready');
    return observeStream(redis, {
      key: settings.streamKey,
      groupPrefix: settings.groupPrefix,
      maxLen: settings.maxLen,
    });
  })();
  return withTimeout(work, timeoutMs, 'observing Redis');
}

export class Reconciler {
  readonly #deps: ReconcilerDeps;
  #history: History = emptyHistory;
  readonly #results = new Map<number, RemediationResult>();
  #conditions: readonly PolicyCondition[] = [];
  #wasLeader = false;
  #lastProblem: string | undefined;
  #redisDown = false;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  get history(): History {
    return this.#history;
  }

  async #resolvePolicy(): Promise<{
    settings: EffectiveSettings;
    object: PolicyObject | undefined;
    problem: string | undefined;
  }> {
    const { cluster, policyName, defaults } = this.#deps;
    if (cluster === undefined || policyName === undefined)
      return { settings: defaults, object: undefined, problem: undefined };
    try {
      const object = (await cluster.readPolicy(policyName)) ?? (await this.#createPolicy(cluster, policyName));
      if (object === undefined)
        return {
          settings: defaults,
          object,
          problem: `StreamRemediationPolicy ${policyName} not found; following the environment`,
        };
      const parsed = parsePolicySpec(object.spec);
      if (!parsed.ok)
        return { settings: defaults, object, problem: `invalid policy, following the environment: ${parsed.problem}` };
      return { settings: applyPolicySpec(defaults, parsed.spec), object, problem: undefined };
    } catch (error) {
      return {
        settings: defaults,
        object: undefined,
        problem: `cannot read StreamRemediationPolicy ${policyName}: ${(error as Error).message}`,
      };
    }
  }

  /**
   * The leader creates the policy it was told to follow when nobody has: a bundle cannot ship
   * a custom resource in the same `kubectl apply` that creates its CRD (kubectl maps every
   * kind before the CRD is served). The spec is empty on purpose: every field then follows
   * the environment (controller.env, the action components), so a later change there still
   * takes effect, and the object exists for the status and for operators to override fields.
   */
  async #createPolicy(cluster: ClusterPort, name: string): Promise<PolicyObject | undefined> {
    if (!this.#deps.isLeader()) return undefined;
    if (await cluster.createPolicy(name, {})) {
      this.#deps.log.info(
        { policy: name },
        'created the StreamRemediationPolicy with an empty spec: every field follows the environment until set',
      );
    }
    return cluster.readPolicy(name);
  }

  async #redisUrl(settings: EffectiveSettings): Promise<{ url: string | undefined; problem: string | undefined }> {
    const secret = settings.redisSecret;
    if (secret === undefined || this.#deps.cluster === undefined) return { url: undefined, problem: undefined };
    try {
      const url = await this.#deps.cluster.readSecretValue(secret.name, secret.key);
      return url === undefined
        ? { url: undefined, problem: `Secret ${secret.name} has no key ${secret.key}` }
        : { url, problem: undefined };
    } catch (error) {
      return { url: undefined, problem: `cannot read Secret ${secret.name}: ${(error as Error).message}` };
    }
  }

  async #listPods(selector: string): Promise<{ pods: PodView[] | undefined; problem: string | undefined }> {
    if (this.#deps.cluster === undefined) return { pods: undefined, problem: undefined };
    try {
      return { pods: await this.#deps.cluster.listPods(selector), problem: undefined };
    } catch (error) {
      return { pods: undefined, problem: `cannot list pods: ${(error as Error).message}` };
    }
  }

  async tick(): Promise<TickReport> {
    const { metrics, log, clock } = this.#deps;
    const policy = await this.#resolvePolicy();
    const settings = policy.settings;
    startRemediationCountersAtZero(metrics, settings.policy.action);
    const [redisUrl, podList] = await Promise.all([this.#redisUrl(settings), this.#listPods(settings.podSelector)]);
    const redis = this.#deps.redis.current(redisUrl.url);

    const now = clock();
    let observations: Observations;
    try {
      const seen = await observeRedis(redis, settings, this.#deps.observeTimeoutMs);
      publishObservation(metrics, seen, podList.pods);
      observations = { redis: 'ok', stream: seen.stream, groups: seen.groups, pods: podList.pods };
      if (this.#redisDown) log.info('Redis is reachable again; stuck-consumer timers start afresh');
      this.#redisDown = false;
    } catch (error) {
      metrics.observeErrors.inc();
      forgetGroups(metrics);
      observations = { redis: 'unreachable', error: (error as Error).message, pods: podList.pods };
      // Said once per outage; controller_observe_errors_total counts every failed poll.
      if (!this.#redisDown)
        log.warn({ err: error }, 'cannot observe the stream; treating it as a Redis outage, not a stuck consumer');
      this.#redisDown = true;
    }

    const leader = this.#deps.isLeader();
    if (leader && !this.#wasLeader && policy.object !== undefined) {
      // A new leader inherits the previous one's remediations, so cooldown and budget hold across failover.
      const inherited = remediationsFromStatus(policy.object.status, now);
      const known = new Set(this.#history.remediations.map((r) => `${r.pod}@${r.at}`));
      const merged = [...this.#history.remediations, ...inherited.filter((r) => !known.has(`${r.pod}@${r.at}`))].sort(
        (a, b) => a.at - b.at,
      );
      this.#history = { ...this.#history, remediations: merged };
    }
    this.#wasLeader = leader;

    const decision = decide(observations, this.#history, settings.policy, now);
    if (!leader) {
      // A follower keeps its sustain timers warm for a quick takeover but records nothing as done.
      const previous = this.#history;
      this.#history = {
        ...decision.history,
        remediations: previous.remediations,
        inFlight: previous.inFlight,
        announced: previous.announced,
        backoffUntil: previous.backoffUntil,
      };
      return { observations, actions: decision.actions, leader, settings };
    }

    this.#history = decision.history;
    const ctx: ActContext = {
      cluster: this.#deps.cluster,
      redis,
      streamKey: settings.streamKey,
      policyName: policy.object?.name,
      metrics,
      log,
      now: () => new Date(clock()),
    };
    for (const action of decision.actions) {
      // Leadership lapses at the renew deadline, maybe mid-poll: nothing more once it has.
      if (!this.#deps.isLeader()) {
        log.warn({ pending: action.kind }, 'leadership lapsed during the poll; leaving the rest to the leader');
        return { observations, actions: decision.actions, leader: false, settings };
      }
      if (action.kind === 'remediate') {
        const result = await carryOutRemediation(action, ctx);
        this.#results.set(now, result);
        this.#history = recordOutcome(this.#history, action, result, settings.policy, now);
      } else if (action.kind === 'skip') {
        await carryOutSkip(action, settings.policy.action, ctx);
      } else {
        await carryOutCollection(action, ctx);
      }
    }
    for (const at of this.#results.keys())
      if (!this.#history.remediations.some((r) => r.at === at)) this.#results.delete(at);

    if (policy.object !== undefined && this.#deps.cluster !== undefined && this.#deps.isLeader()) {
      const degraded =
        [policy.problem, redisUrl.problem, podList.problem].filter((p) => p !== undefined).join('; ') || undefined;
      const status = policyStatus({
        observations,
        history: this.#history,
        results: this.#results,
        degraded,
        generation: policy.object.generation,
        previousConditions: this.#conditions,
        now: new Date(now),
      });
      this.#conditions = status.conditions ?? [];
      await this.#deps.cluster
        .updatePolicyStatus(policy.object.name, status)
        .catch((error: unknown) => log.warn({ err: error }, 'could not update policy status'));
    } else if (policy.problem !== undefined && policy.problem !== this.#lastProblem) {
      log.warn(policy.problem);
    }
    this.#lastProblem = policy.problem;
    return { observations, actions: decision.actions, leader, settings };
  }
}
