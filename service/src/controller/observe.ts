// The Redis edge: reads the stream's length and, for every consumer group under the
// prefix, its pending count, the age of its oldest pending entry, its lag and its
// consumers' idle times. One round trip for the groups, one pipeline for the details.
import { podOfGroup } from '../contract/index.ts';
import type { RedisClient } from '../redis/index.ts';
import type { ConsumerObservation, GroupObservation } from './model.ts';

export interface StreamObservation {
  readonly stream: { readonly key: string; readonly length: number; readonly maxLen: number };
  readonly groups: readonly GroupObservation[];
  /** Groups of the stream that do not carry the prefix (other readers): left alone. */
  readonly foreignGroups: number;
}

/** XINFO replies in RESP2 are flat [field, value, field, value…] arrays. */
function fields(reply: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out.set(String(reply[i]), reply[i + 1]);
  return out;
}

function count(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function consumersFrom(reply: unknown): ConsumerObservation[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((entry) => {
    const f = fields(entry);
    return { name: String(f.get('name')), pending: count(f.get('pending')) ?? 0, idleMs: count(f.get('idle')) ?? 0 };
  });
}

/** The pod's own consumer when it exists; otherwise the freshest, so one busy reader counts. */
function consumerIdle(pod: string, consumers: readonly ConsumerObservation[]): number | undefined {
  const own = consumers.find((c) => c.name === pod);
  if (own !== undefined) return own.idleMs;
  if (consumers.length === 0) return undefined;
  return Math.min(...consumers.map((c) => c.idleMs));
}

/**
 * The oldest pending age is the IDLE of the lowest pending id (extended XPENDING): how long
 * ago it was delivered without an ack. Unlike the id's timestamp, it does not depend on the
 * controller's clock agreeing with Redis's, nor flag a healthy reader replaying old entries.
 */
function oldestPendingAge(reply: unknown): number | undefined {
  if (!Array.isArray(reply) || reply.length === 0) return undefined;
  const first: unknown = reply[0];
  return Array.isArray(first) ? count(first[2]) : undefined;
}

export async function observeStream(
  redis: RedisClient,
  stream: { key: string; groupPrefix: string; maxLen: number },
): Promise<StreamObservation> {
  const [lengthReply, existsReply] = await Promise.all([redis.xlen(stream.key), redis.exists(stream.key)]);
  const base = { key: stream.key, length: lengthReply, maxLen: stream.maxLen };
  if (existsReply === 0) return { stream: base, groups: [], foreignGroups: 0 };

  const infos = ((await redis.call('XINFO', 'GROUPS', stream.key)) as unknown[]).map(fields);
  const ours = infos.filter((g) => podOfGroup(stream.groupPrefix, String(g.get('name'))) !== undefined);

  const pipeline = redis.pipeline();
  for (const info of ours) {
    const group = String(info.get('name'));
    pipeline.call('XINFO', 'CONSUMERS', stream.key, group);
    pipeline.call('XPENDING', stream.key, group, '-', '+', '1');
  }
  const replies = (await pipeline.exec()) ?? [];

  const groups = ours.map((info, i): GroupObservation => {
    const group = String(info.get('name'));
    const [consumersErr, consumersReply] = replies[2 * i] ?? [null, []];
    const [pendingErr, pendingReply] = replies[2 * i + 1] ?? [null, []];
    // A group destroyed between the two calls answers NOGROUP; it simply reads as empty.
    const consumers = consumersErr ? [] : consumersFrom(consumersReply);
    const pod = podOfGroup(stream.groupPrefix, group) ?? group;
    const pending = count(info.get('pending')) ?? 0;
    return {
      group,
      pod,
      pending,
      oldestPendingAgeMs: pending === 0 || pendingErr ? undefined : oldestPendingAge(pendingReply),
      lag: count(info.get('lag')),
      entriesRead: count(info.get('entries-read')),
      consumerIdleMs: consumerIdle(pod, consumers),
      consumers,
    };
  });
  return { stream: base, groups, foreignGroups: infos.length - ours.length };
}

/** Stale group collection. Returns false when the group was already gone. */
export async function destroyGroup(redis: RedisClient, streamKey: string, group: string): Promise<boolean> {
  return Number(await redis.xgroup('DESTROY', streamKey, group)) === 1;
}
