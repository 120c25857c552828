// Test harness for the reconciler: a Reconciler wired to a real Redis (the suite's
// private redis-server unless told otherwise), a FakeCluster and a controller clock the
// test advances, plus helpers that play the service's part on the stream.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { FakeCluster } from '#test-support/fake-cluster';
import { defaultRemediationPolicy } from '#test-support/remediation-policy';
import type { RemediationPolicy } from '../../src/config/controller.ts';
import {
  createControllerMetrics,
  type EffectiveSettings,
  Reconciler,
  RedisSource,
} from '../../src/controller/index.ts';

export const PREFIX = 'realtime-consumers';
export const POLL = 250; // controller-clock milliseconds between ticks
/** The default policy with a sustain period of a few ticks, so a test sees a remediation soon. */
export const policy: RemediationPolicy = { ...defaultRemediationPolicy, sustainMs: 1000 };

export let redis: Redis;
const sources: RedisSource[] = [];
beforeAll(() => {
  redis = new Redis(inject('redisUrl'), { protocol: 2 });
});
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await redis.quit();
});

export interface HarnessOptions {
  url?: string;
  policy?: Partial<RemediationPolicy>;
  pods?: string[];
  streamKey?: string;
  policyName?: string;
  leader?: () => boolean;
}

export function harness(options: HarnessOptions = {}) {
  const streamKey = options.streamKey ?? `test:controller:${randomUUID()}`;
  const cluster = new FakeCluster();
  cluster.pods = (options.pods ?? []).map((name) => FakeCluster.pod(name));
  const metrics = createControllerMetrics();
  const source = new RedisSource({ mode: 'standalone', url: options.url ?? inject('redisUrl') });
  sources.push(source);
  const defaults: EffectiveSettings = {
    streamKey,
    groupPrefix: PREFIX,
    maxLen: 5000,
    podSelector: 'app=rt',
    redisSecret: undefined,
    policy: { ...policy, ...options.policy },
  };
  const clock = { now: 1_000_000 };
  const reconciler = new Reconciler({
    defaults,
    cluster,
    policyName: options.policyName,
    redis: source,
    metrics,
    log: pino({ level: 'silent' }),
    clock: () => clock.now,
    isLeader: options.leader ?? (() => true),
    observeTimeoutMs: 2000,
  });
  return { streamKey, cluster, metrics, reconciler, clock };
}

export async function addEntries(key: string, n: number): Promise<void> {
  const pipeline = redis.pipeline();
  for (let i = 0; i < n; i++) pipeline.xadd(key, '*', 'event', 'match:updated', 'payload', `{"n":${i}}`);
  await pipeline.exec();
}

export async function createGroup(key: string, pod: string): Promise<string> {
  const group = `${PREFIX}:${pod}`;
  await redis.xgroup('CREATE', key, group, '$', 'MKSTREAM');
  return group;
}

/** Delivers up to n entries to the pod's consumer, acknowledging them only when asked. */
export async function read(key: string, pod: string, n: number, ack: boolean): Promise<number> {
  const reply = (await redis.xreadgroup('GROUP', `${PREFIX}:${pod}`, pod, 'COUNT', n, 'STREAMS', key, '>')) as
    [string, [string, string[]][]][] | null;
  const ids = reply?.[0]?.[1].map(([id]) => id) ?? [];
  if (ack && ids.length > 0) await redis.xack(key, `${PREFIX}:${pod}`, ...ids);
  return ids.length;
}
