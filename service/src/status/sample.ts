// One status sample: the controller's own observation of the stream and its groups
// (controller/observe.ts), the stream's ends and current rate, the metrics:sse counters, and
// the verdict the controller's pure decide() reaches on them. The monitor carries decide()'s
// history from one sample to the next exactly as the controller carries it between polls, so
// "lag grows while the consumer idles" and "held for 15 s" mean the same here as there.
// Every command it sends only reads.
import { SSE_METRICS_HASH, thresholds, type StuckReason } from '../contract/index.ts';
import { decide, stuckCondition } from '../controller/decide.ts';
import { emptyHistory, type GroupObservation, type History } from '../controller/model.ts';
import { observeStream } from '../controller/observe.ts';
import type { EffectiveSettings } from '../controller/policy.ts';
import type { RedisClient } from '../redis/index.ts';

/** Entries the current rate is measured over: the newest ones, up to now. */
const RATE_SAMPLE = 100;

export type Verdict =
  | { readonly state: 'ok' }
  | {
      readonly state: 'stuck';
      readonly reason: StuckReason;
      readonly detail: string;
      /** How long the condition has held in this monitor's samples, and how long the controller waits. */
      readonly heldSeconds: number;
      readonly sustainSeconds: number;
    };

export interface GroupStatus {
  readonly group: string;
  readonly pod: string;
  /** The instance part of the group name: the pod, or `<pod>-w<N>` for a cluster worker. */
  readonly instance: string;
  readonly pending: number;
  readonly oldestPendingAgeSeconds: number | undefined;
  readonly lag: number | undefined;
  readonly consumerIdleSeconds: number | undefined;
  readonly consumers: number;
  /** Lag above the contract's "falling behind" level: trimming may remove entries it has not read. */
  readonly lagging: boolean;
  readonly verdict: Verdict;
  /** Stuck by the controller's rules, or lagging: what makes the command exit non-zero. */
  readonly overThreshold: boolean;
}

export interface StreamStatus {
  readonly key: string;
  readonly length: number;
  readonly maxLen: number;
  readonly firstId: string | undefined;
  readonly lastId: string | undefined;
  /** Events per second from the oldest of the newest entries up to now (Redis's clock). */
  readonly ratePerSecond: number;
  /** How much history MAXLEN holds at that rate; undefined while nothing arrives. */
  readonly replayWindowSeconds: number | undefined;
  /** How much history the stream holds right now (first entry to now). */
  readonly retainedSeconds: number | undefined;
}

export type StatusReport =
  | {
      readonly redis: 'ok';
      readonly observedAt: string;
      readonly stream: StreamStatus;
      /** Groups are named `<groupPrefix>:<instance>`. */
      readonly groupPrefix: string;
      readonly groups: readonly GroupStatus[];
      readonly foreignGroups: number;
      readonly sse: { readonly connections: number; readonly disconnects: number; readonly dropped: number };
      readonly thresholds: {
        readonly pendingEntries: number;
        readonly oldestPendingAgeSeconds: number;
        readonly consumerIdleSeconds: number;
        readonly sustainSeconds: number;
        readonly laggingEntries: number;
        readonly minReplayWindowSeconds: number;
      };
      readonly overThreshold: boolean;
    }
  | {
      readonly redis: 'unreachable';
      readonly observedAt: string;
      readonly error: string;
      readonly overThreshold: false;
    };

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms / 100) / 10);
const idTime = (id: string) => Number(id.slice(0, id.indexOf('-')));

async function readStreamWindow(redis: RedisClient, key: string, maxLen: number, length: number) {
  const [first, newest, time] = await Promise.all([
    redis.xrange(key, '-', '+', 'COUNT', 1),
    redis.xrevrange(key, '+', '-', 'COUNT', RATE_SAMPLE),
    redis.time(),
  ]);
  const nowMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  const firstId = first[0]?.[0];
  const oldestSampled = newest.at(-1)?.[0];
  const spanMs = oldestSampled === undefined ? 0 : Math.max(1, nowMs - idTime(oldestSampled));
  const ratePerSecond = newest.length === 0 ? 0 : newest.length / (spanMs / 1000);
  return {
    key,
    length,
    maxLen,
    firstId,
    lastId: newest[0]?.[0],
    ratePerSecond: Math.round(ratePerSecond * 100) / 100,
    replayWindowSeconds: ratePerSecond > 0 ? Math.round(maxLen / ratePerSecond) : undefined,
    retainedSeconds: seconds(firstId === undefined ? undefined : Math.max(0, nowMs - idTime(firstId))),
  };
}

async function readSseCounters(redis: RedisClient) {
  const hash = await redis.hgetall(SSE_METRICS_HASH);
  const field = (name: string) => Number(hash[name] ?? 0);
  return { connections: field('connections'), disconnects: field('disconnects'), dropped: field('dropped') };
}

export class StatusMonitor {
  readonly #redis: RedisClient;
  readonly #settings: EffectiveSettings;
  readonly #clock: () => number;
  #history: History = emptyHistory;

  constructor(redis: RedisClient, settings: EffectiveSettings, clock: () => number) {
    this.#redis = redis;
    this.#settings = settings;
    this.#clock = clock;
  }

  async sample(): Promise<StatusReport> {
    const { policy, streamKey, groupPrefix, maxLen } = this.#settings;
    const now = this.#clock();
    const observedAt = new Date(now).toISOString();
    let seen: Awaited<ReturnType<typeof observeStream>>;
    let window: StreamStatus;
    let sse: Awaited<ReturnType<typeof readSseCounters>>;
    try {
      seen = await observeStream(this.#redis, { key: streamKey, groupPrefix, maxLen });
      [window, sse] = await Promise.all([
        readStreamWindow(this.#redis, streamKey, maxLen, seen.stream.length),
        readSseCounters(this.#redis),
      ]);
    } catch (error) {
      const message = (error as Error).message;
      // The controller treats this as an outage, not a stuck consumer; so does its history here.
      this.#history = decide(
        { redis: 'unreachable', error: message, pods: undefined },
        this.#history,
        policy,
        now,
      ).history;
      return { redis: 'unreachable', observedAt, error: message, overThreshold: false };
    }

    const previous = this.#history;
    // No pod list: the status command never asks Kubernetes, so decide() collects nothing.
    const decision = decide(
      { redis: 'ok', stream: seen.stream, groups: seen.groups, pods: undefined },
      previous,
      policy,
      now,
    );
    this.#history = decision.history;

    const verdictOf = (group: GroupObservation): Verdict => {
      const stuck = decision.history.stuckSince[group.group];
      if (stuck === undefined) return { state: 'ok' };
      // The same call decide() made for this group, for the numbers behind its reason.
      const condition = stuckCondition(group, previous.idleLagBaseline[group.group], policy);
      return {
        state: 'stuck',
        reason: stuck.reason,
        detail: condition?.detail ?? stuck.reason,
        heldSeconds: seconds(now - stuck.since) ?? 0,
        sustainSeconds: policy.sustainMs / 1000,
      };
    };

    const groups = seen.groups.map((group): GroupStatus => {
      const verdict = verdictOf(group);
      const lagging = group.lag !== undefined && group.lag > thresholds.laggingEntries;
      return {
        group: group.group,
        pod: group.pod,
        instance: group.group.slice(groupPrefix.length + 1),
        pending: group.pending,
        oldestPendingAgeSeconds: seconds(group.oldestPendingAgeMs),
        lag: group.lag,
        consumerIdleSeconds: seconds(group.consumerIdleMs),
        consumers: group.consumers.length,
        lagging,
        verdict,
        overThreshold: verdict.state === 'stuck' || lagging,
      };
    });
    return {
      redis: 'ok',
      observedAt,
      stream: window,
      groupPrefix,
      groups,
      foreignGroups: seen.foreignGroups,
      sse,
      thresholds: {
        pendingEntries: policy.pendingEntries,
        oldestPendingAgeSeconds: policy.oldestPendingAgeMs / 1000,
        consumerIdleSeconds: policy.consumerIdleMs / 1000,
        sustainSeconds: policy.sustainMs / 1000,
        laggingEntries: thresholds.laggingEntries,
        minReplayWindowSeconds: thresholds.minReplayWindowSeconds,
      },
      overThreshold: groups.some((g) => g.overThreshold),
    };
  }
}
