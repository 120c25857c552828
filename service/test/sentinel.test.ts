// Redis through Sentinel: the service (and the status command) find the master by name, and
// when the master dies and Sentinel promotes the replica, producers and the stream reader
// follow by themselves.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '#test-support/free-port';
import { redisAnswers, startThrowawayRedis, type ThrowawayRedis } from '#test-support/throwaway-redis';
import { SseTestClient } from '#test-support/sse-client';
import { runStatusCommand } from '#test-support/entry-processes';
import type { StatusReport } from '../src/status/index.ts';
import {
  eventually,
  publish,
  startInstance,
  testConfig,
  testStream,
  token,
  type TestInstance,
} from '#test-support/instance';

const stops: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

function daemon(args: string[]): ChildProcess {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  stops.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  });
  return child;
}

describe('Redis through Sentinel', () => {
  it('connects by master name and follows a failover to the promoted replica', async () => {
    const master: ThrowawayRedis = await startThrowawayRedis();
    stops.push(() => master.stop());
    const replicaPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-'));
    daemon([
      '--port',
      String(replicaPort),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--replicaof',
      '127.0.0.1',
      String(master.port),
    ]);
    await eventually(() => redisAnswers('127.0.0.1', replicaPort), 'the replica to start');

    const sentinelPort = await freePort();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor realtime 127.0.0.1 ${master.port} 1`,
        'sentinel down-after-milliseconds realtime 500',
        'sentinel failover-timeout realtime 5000',
        '',
      ].join('\n'),
    );
    daemon([conf, '--sentinel']);
    await eventually(() => redisAnswers('127.0.0.1', sentinelPort), 'the sentinel to start');

    const service: TestInstance = await startInstance(
      testConfig(testStream(), {
        REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
        REDIS_SENTINEL_NAME: 'realtime',
        REALTIME_STREAM_READ_BLOCK_MS: '200',
      }),
    );
    stops.push(() => service.close());
    const producer = await token('producer');
    const client = await SseTestClient.open(service.url, { token: await token('admin') });
    stops.push(() => client.close());
    const before = (await (await publish(service.url, producer, { matchId: 'm', action: 'match:created' })).json()) as {
      id: string;
    };
    await eventually(() => client.ids.includes(before.id), 'delivery through the master');
    // The status command finds the master by name too, and sees this instance's group.
    const status = await runStatusCommand(['--json'], {
      REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      REDIS_SENTINEL_NAME: 'realtime',
      REALTIME_STREAM_KEY: service.config.stream.key,
    });
    expect(status.code, status.stderr || status.stdout).toBe(0);
    expect((JSON.parse(status.stdout) as Extract<StatusReport, { redis: 'ok' }>).groups.map((g) => g.pod)).toEqual([
      service.config.instance,
    ]);
    // Failover keeps what reached the replica; make sure everything so far has.
    const direct = new Redis(master.url, { protocol: 2 });
    expect(await direct.wait(1, 5000)).toBe(1);
    await direct.quit();

    // The master dies; Sentinel promotes the replica, which has the stream and the group.
    await master.kill();
    let after: { id: string } | undefined;
    await eventually(
      async () => {
        const response = await publish(service.url, producer, { matchId: 'm', action: 'match:updated' });
        if (response.status === 202) after = (await response.json()) as { id: string };
        return after !== undefined;
      },
      'a publish to succeed after the failover',
      30_000,
    );
    await eventually(() => client.ids.includes(after?.id ?? ''), 'delivery through the promoted replica', 20_000);
    expect(client.ids[0]).toBe(before.id);
    expect(client.ended).toBe(false);
  }, 60_000);
});
