// Every decision names the pod a group belongs to through the one mapping the service names
// groups by (contract/consumer-groups.ts): worker groups `-w<N>` belong to their pod, and a
// prefix may itself contain ':'. Real Redis groups, observed and decided on, including the
// outage path that must name the pod without the stream to look at.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { decide } from '../../src/controller/decide.ts';
import { emptyHistory, type Observations } from '../../src/controller/model.ts';
import { observeStream } from '../../src/controller/index.ts';
import { groupName, podOfGroup } from '#contract';
import { defaultRemediationPolicy } from '#test-support/remediation-policy';
import { testStream } from '#test-support/instance';

const redis = new Redis(inject('redisUrl'), { protocol: 2 });
afterAll(async () => redis.quit());

// Any pending entry counts as stuck, at once: the rows are about naming, not thresholds.
const policy = { ...defaultRemediationPolicy, pendingEntries: 0, sustainMs: 0 };

describe('a consumer group is read back to its pod', () => {
  it.each([
    ['realtime-consumers', 'web-7f9c-abcde', 'web-7f9c-abcde'],
    ['realtime-consumers', 'web-7f9c-abcde-w3', 'web-7f9c-abcde'],
    ['realtime-consumers', 'redis-0-w12', 'redis-0'],
    ['trayb:rt:consumers', 'web-0', 'web-0'],
    ['trayb:rt:consumers', 'web-0-w2', 'web-0'],
    ['a:b', 'c-w1', 'c'],
  ])(
    'prefix %s, instance %s → pod %s, when observed, remediated and during an outage',
    async (prefix, instance, pod) => {
      const { key } = testStream();
      const group = groupName(prefix, instance);
      await redis.xgroup('CREATE', key, group, '$', 'MKSTREAM');
      await redis.xgroup('CREATE', key, `${prefix}-other:${instance}`, '$'); // not under the prefix
      await redis.xadd(key, '*', 'topic', 'match.updated');
      await redis.xreadgroup('GROUP', group, instance, 'COUNT', 1, 'STREAMS', key, '>'); // never acked

      expect(podOfGroup(prefix, group)).toBe(pod);
      const observed = await observeStream(redis, { key, groupPrefix: prefix, maxLen: 5000 });
      expect(observed.groups.map((g) => [g.group, g.pod])).toEqual([[group, pod]]);
      expect(observed.foreignGroups).toBe(1);

      const pods = [pod, 'bystander'].map((name) => ({ name, uid: `uid-${name}`, ready: true, terminating: false }));
      const seen: Observations = { redis: 'ok', stream: observed.stream, groups: observed.groups, pods };
      const first = decide(seen, emptyHistory, { ...policy, dryRun: true }, 1_000);
      expect(first.actions).toEqual([expect.objectContaining({ kind: 'remediate', pod, group })]);

      const outage = decide({ redis: 'unreachable', error: 'ECONNREFUSED', pods }, first.history, policy, 2_000);
      expect(outage.actions).toEqual([
        expect.objectContaining({ kind: 'skip', reason: 'redis_unreachable', pod, group }),
      ]);
    },
  );
});
