// Least privilege down to Redis: a real redis-server enforcing the ACL users of
// service/src/redis/acl.ts (the rules the bundle ships). The service and the controller do
// all their work as their own user with nothing refused (Redis's ACL LOG stays empty), and
// what neither needs (FLUSHALL, CONFIG, KEYS, other keys, the other's commands) is refused.
import { randomBytes } from 'node:crypto';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStatusCommand } from '#test-support/entry-processes';
import { startThrowawayRedis, type ThrowawayRedis } from '#test-support/throwaway-redis';
import { perTest } from '#test-support/per-test';
import { eventually, publish, testStream, token } from '#test-support/instance';
import { SSE_METRICS_HASH, groupName } from '#contract';
import {
  CONTROLLER_ACL_USER,
  SERVICE_ACL_USER,
  aclFile,
  controllerAclUser,
  serviceAclUser,
} from '../../src/redis/acl.ts';
import { createRedis, type RedisClient } from '../../src/redis/index.ts';
import { loadControllerConfig } from '../../src/config/controller.ts';
import { observeStream } from '../../src/controller/index.ts';
import { destroyGroup } from '../../src/controller/observe.ts';

const stream = testStream();
const password = () => randomBytes(24).toString('hex');
const passwords: Record<string, string> = { [SERVICE_ACL_USER]: password(), [CONTROLLER_ACL_USER]: password() };
// The test's own eyes: reads the ACL LOG and checks what the users wrote. Not part of the bundle.
const ADMIN = 'acl-test-admin';
const adminPassword = password();

let redis: ThrowawayRedis;
let dir: string;
let admin: Redis;
const urlAs = (user: string, secret: string) => `redis://${user}:${secret}@127.0.0.1:${redis.port}`;
const serviceUrl = () => urlAs(SERVICE_ACL_USER, passwords[SERVICE_ACL_USER] as string);
const controllerUrl = () => urlAs(CONTROLLER_ACL_USER, passwords[CONTROLLER_ACL_USER] as string);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'redis-acl-'));
  const users = [
    serviceAclUser({ stream: stream.key, matches: stream.matchesKey, rateLimitPrefix: `${stream.key}:ratelimit:` }),
    controllerAclUser({ stream: stream.key }),
  ];
  const file = join(dir, 'users.acl');
  await writeFile(file, `${aclFile(users, passwords)}user ${ADMIN} on >${adminPassword} ~* &* +@all\n`, {
    mode: 0o600,
  });
  redis = await startThrowawayRedis({ args: ['--aclfile', file, '--protected-mode', 'yes'] });
  admin = new Redis(urlAs(ADMIN, adminPassword), { protocol: 2 });
});

afterAll(async () => {
  await admin.quit();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Every command Redis refused for lack of permission since the last reset, as "user: command". */
async function refusals(): Promise<string[]> {
  const log = (await admin.call('ACL', 'LOG')) as unknown[][];
  return log.map((entry) => {
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
    return `${String(fields.get('username'))}: ${String(fields.get('object'))}`;
  });
}

const { instance, open } = perTest();

describe('the service and the controller under their Redis ACL users', () => {
  it('the service publishes, fans out, resumes, changes matches and counts, as its own user, with nothing refused', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    const pod = 'acl-pod-1';
    // Started twice under one name: the second start finds its group and moves it (XGROUP SETID).
    // First with the credentials in the URL, then as the bundle hands them over: a plain URL
    // beside REDIS_USERNAME and REDIS_PASSWORD.
    const first = await instance(stream, { REDIS_URL: serviceUrl(), POD_NAME: pod });
    await first.close();
    const service = await instance(stream, {
      REDIS_URL: redis.url,
      REDIS_USERNAME: SERVICE_ACL_USER,
      REDIS_PASSWORD: passwords[SERVICE_ACL_USER] as string,
      POD_NAME: pod,
    });
    const [reader, producer] = [await token('admin'), await token('producer')];
    const client = await open(service.url, { token: reader });

    const published = await publish(service.url, producer, { matchId: 'm-1', action: 'match:updated' });
    expect(published.status).toBe(202);
    const created = await fetch(`${service.url}/api/matches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${producer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Falcons vs Owls' }),
    });
    expect(created.status).toBe(201);
    const { match } = (await created.json()) as { match: { id: string } };
    const matchId = match.id;
    const patched = await fetch(`${service.url}/api/matches/${matchId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${producer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'live' }),
    });
    expect(patched.status).toBe(200);
    await client.waitForEvents(3);
    expect(client.streamEvents.map((event) => event.event)).toEqual([
      'match:updated',
      'match:created',
      'match:updated',
    ]);

    // A client resuming after the first event gets the two after it, replayed from the stream.
    const resumed = await open(service.url, { token: reader, lastEventId: client.streamEvents[0]?.id as string });
    await resumed.waitForEvents(2);
    expect(resumed.streamEvents.map((event) => event.id)).toEqual(
      client.streamEvents.slice(1).map((event) => event.id),
    );

    const list = await fetch(`${service.url}/api/matches?cache=refresh`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    const { matches } = (await list.json()) as { matches: { id: string }[] };
    expect(matches.map((m) => m.id)).toEqual([matchId]);
    const profile = await fetch(`${service.url}/api/users/profile?fullHistory=true`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(profile.status).toBe(200);
    // A forged token is counted against its address in Redis, under the rate-limit prefix.
    const forged = await fetch(`${service.url}/api/users/profile`, {
      headers: { authorization: `Bearer ${reader.slice(0, -6)}AAAAAA` },
    });
    expect(forged.status).toBe(401);
    expect(await admin.keys(`${stream.key}:ratelimit:*`)).not.toEqual([]);

    client.close();
    resumed.close();
    // The runbook's counters reach metrics:sse (flushed once a second).
    await eventually(async () => Number(await admin.hget(SSE_METRICS_HASH, 'disconnects')) >= 2, 'metrics:sse');
    expect(await refusals()).toEqual([]);
  });

  it('the controller observes the groups and destroys a gone pod’s group, as its own user, with nothing refused', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    const gone = groupName('realtime-consumers', 'acl-gone-pod');
    await admin.xgroup('CREATE', stream.key, gone, '$', 'MKSTREAM');
    // As the bundle configures it: a plain URL and REDIS_USERNAME (its password it reads from the Secret).
    const config = loadControllerConfig({
      REDIS_URL: redis.url,
      REDIS_USERNAME: CONTROLLER_ACL_USER,
      REDIS_PASSWORD: passwords[CONTROLLER_ACL_USER],
      REALTIME_STREAM_KEY: stream.key,
    });
    const controller: RedisClient = createRedis(config.redis, { name: 'acl-test-controller', offlineQueue: true });
    try {
      await controller.connect();
      const seen = await observeStream(controller, {
        key: stream.key,
        groupPrefix: 'realtime-consumers',
        maxLen: 5000,
      });
      expect(seen.groups.map((group) => group.group)).toContain(gone);
      expect(await destroyGroup(controller, stream.key, gone)).toBe(true);
    } finally {
      await controller.quit();
    }
    // The status command, run in the controller's pod, reads as the same user.
    const status = await runStatusCommand(['--json'], {
      REDIS_URL: redis.url,
      REDIS_USERNAME: CONTROLLER_ACL_USER,
      REDIS_PASSWORD: passwords[CONTROLLER_ACL_USER] as string,
      REALTIME_STREAM_KEY: stream.key,
    });
    expect(status.code, status.stderr).not.toBe(2);
    expect((JSON.parse(status.stdout) as { redis: string; sse: unknown }).redis).toBe('ok');
    expect(await refusals()).toEqual([]);
  });
});

describe('what the ACL refuses', () => {
  it.each([
    ['service', SERVICE_ACL_USER],
    ['controller', CONTROLLER_ACL_USER],
  ])('the %s user cannot flush, reconfigure, list keys or write any other key', async (_name, user) => {
    const client = new Redis(urlAs(user, passwords[user] as string), { protocol: 2, maxRetriesPerRequest: 0 });
    try {
      const refused = [
        () => client.flushall(),
        () => client.call('CONFIG', 'GET', '*'),
        () => client.call('CONFIG', 'SET', 'appendonly', 'no'),
        () => client.keys('*'),
        () => client.call('ACL', 'LIST'),
        () => client.set('trayb:other', '1'),
        () => client.hset('trayb:other-hash', 'f', '1'),
        () => client.xadd('trayb:other-stream', '*', 'f', '1'),
        () => client.call('SUBSCRIBE', 'anything'),
      ];
      for (const command of refused) await expect(command()).rejects.toThrow(/NOPERM/);
    } finally {
      client.disconnect();
    }
  });

  it('the controller cannot write entries or read the matches; the service cannot destroy groups', async () => {
    const controller = new Redis(controllerUrl(), { protocol: 2, maxRetriesPerRequest: 0 });
    const service = new Redis(serviceUrl(), { protocol: 2, maxRetriesPerRequest: 0 });
    try {
      await expect(controller.xadd(stream.key, '*', 'f', '1')).rejects.toThrow(/NOPERM/);
      await expect(controller.hget(stream.matchesKey, 'x')).rejects.toThrow(/NOPERM/);
      await expect(controller.hincrby(SSE_METRICS_HASH, 'connections', 1)).rejects.toThrow(/NOPERM/);
      await expect(service.xgroup('DESTROY', stream.key, 'any')).rejects.toThrow(/NOPERM/);
      await expect(service.del(stream.key)).rejects.toThrow(/NOPERM/);
    } finally {
      controller.disconnect();
      service.disconnect();
    }
  });

  it('without credentials, or with a wrong password, nothing is allowed, from the loopback or another address', async () => {
    const anonymous = new Redis(redis.url, {
      protocol: 2,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      enableReadyCheck: false,
    });
    try {
      await anonymous.connect();
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
      await expect(anonymous.get('x')).rejects.toThrow(/NOAUTH/);
      await expect(anonymous.call('AUTH', SERVICE_ACL_USER, 'not-the-password')).rejects.toThrow(/WRONGPASS/);
      await expect(anonymous.call('AUTH', 'default', '')).rejects.toThrow(/WRONGPASS/);
      await expect(anonymous.get('x')).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }

    // 127.0.0.2 is not loopback to Redis's protected mode: a client there is told to authenticate.
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: redis.port, localAddress: '127.0.0.2' });
      socket.once('error', reject);
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (chunk) => {
        socket.destroy();
        resolve(chunk.toString());
      });
    });
    expect(reply).toMatch(/^-NOAUTH/);
  });
});
