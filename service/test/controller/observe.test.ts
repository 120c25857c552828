// What the controller sees of a stream: every group of our prefix, read back to the pod it
// belongs to, including the groups of a pod's cluster workers (WEB_CONCURRENCY > 1).
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { observeStream } from '../../src/controller/index.ts';
import { groupName, podOfInstance, workerInstance } from '#contract';
import { testStream } from '#test-support/instance';

const redis = new Redis(inject('redisUrl'), { protocol: 2 });
afterAll(async () => redis.quit());

describe('observing the stream', () => {
  it('reads each group of the prefix back to its pod, worker groups included, and ignores other groups', async () => {
    const { key } = testStream();
    for (const instance of ['web-1', workerInstance('web-2', 1), workerInstance('web-2', 2)])
      await redis.xgroup('CREATE', key, groupName('realtime-consumers', instance), '$', 'MKSTREAM');
    await redis.xgroup('CREATE', key, 'analytics', '$');

    const observed = await observeStream(redis, { key, groupPrefix: 'realtime-consumers', maxLen: 5000 });
    expect(observed.groups.map((group) => [group.group, group.pod]).sort()).toEqual([
      ['realtime-consumers:web-1', 'web-1'],
      ['realtime-consumers:web-2-w1', 'web-2'],
      ['realtime-consumers:web-2-w2', 'web-2'],
    ]);
    expect(observed.foreignGroups).toBe(1);
  });

  it.each([
    ['web-7f9c-abcde', 'web-7f9c-abcde'],
    ['web-7f9c-abcde-w3', 'web-7f9c-abcde'],
    ['redis-0', 'redis-0'],
  ])('instance %s runs in pod %s', (instance, pod) => expect(podOfInstance(instance)).toBe(pod));
});
