// The default stack's Redis container, run for real outside a cluster: its start command and
// arguments and its readiness probe exactly as kustomize renders them, with the files the pod
// would mount (the ACL ConfigMap, the users Secret) put in a private directory. Redis comes
// up with the generated users and their passwords, the readiness probe passes only with them,
// and a client without credentials is refused.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '#test-support/free-port';
import { eventually } from '#test-support/instance';
import { CONTROLLER_ACL_USER, SERVICE_ACL_USER } from '../../service/src/redis/acl.ts';
import { newRedisUserPasswords } from '../../service/src/controller/redis-users.ts';
import { named, onlyContainer, workload } from './manifests.ts';
import { workspace } from './render.ts';

const ws = workspace();
const dir = mkdtempSync(join(tmpdir(), 'redis-start-'));
let redis: ChildProcess | undefined;

afterAll(async () => {
  if (redis !== undefined && redis.exitCode === null) {
    const exited = once(redis, 'exit');
    redis.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
  ws.dispose();
});

/** The pod's paths, moved into the test's directory. */
const moved = (text: string) =>
  text
    .replaceAll('/etc/redis-acl', join(dir, 'acl'))
    .replaceAll('/etc/redis-users', join(dir, 'users'))
    .replaceAll('/tmp/users.acl', join(dir, 'users.acl'));

describe("the default stack's Redis container", () => {
  it('starts with the generated ACL users and the Secret’s passwords, and admits no one else', async () => {
    const objects = ws.render('.');
    const container = onlyContainer(workload(objects, 'trayb-realtime-redis'));
    const acl = named(objects, 'ConfigMap', 'trayb-realtime-redis-acl').data as Record<string, string>;
    const passwords = newRedisUserPasswords();
    mkdirSync(join(dir, 'acl'));
    mkdirSync(join(dir, 'users'));
    writeFileSync(join(dir, 'acl', 'users.acl'), acl['users.acl'] ?? '');
    for (const [key, value] of Object.entries(passwords)) writeFileSync(join(dir, 'users', key), value);

    const port = await freePort();
    // The pod's own arguments, kept as rendered (its data directory moved too), then what
    // differs outside it: a private port on the loopback.
    const command = (container.command ?? []).map(moved);
    const podArgs = (container.args ?? []).map((arg) => (arg === '/data' ? dir : moved(arg)));
    const args = [...podArgs, '--port', String(port), '--bind', '127.0.0.1'];
    const [program, ...programArgs] = command;
    redis = spawn(program ?? 'sh', [...programArgs, ...args], { stdio: 'ignore' });

    const probe = (container.readinessProbe as { exec: { command: string[] } }).exec.command.map(moved);
    const ready = () => {
      const [probeProgram, ...probeArgs] = probe;
      // redis-cli inside the probe talks to the default port; point it at ours.
      const result = spawnSync(
        probeProgram ?? 'sh',
        probeArgs.map((a) => a.replace('redis-cli', `redis-cli -p ${port}`)),
      );
      return result.status === 0;
    };
    await eventually(ready, 'the readiness probe to pass', 15_000);

    const as = (user: string, password: string) =>
      new Redis({
        port,
        host: '127.0.0.1',
        username: user,
        password,
        protocol: 2,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      });
    const service = as(SERVICE_ACL_USER, passwords['service-password'] ?? '');
    const controller = as(CONTROLLER_ACL_USER, passwords['controller-password'] ?? '');
    const anonymous = new Redis({
      port,
      host: '127.0.0.1',
      protocol: 2,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableReadyCheck: false,
    });
    try {
      await service.connect();
      expect(await service.xadd('trayb:events:realtime', '*', 'f', '1')).toMatch(/^\d+-\d+$/);
      await controller.connect();
      expect(await controller.xlen('trayb:events:realtime')).toBe(1);
      await expect(controller.xadd('trayb:events:realtime', '*', 'f', '1')).rejects.toThrow(/NOPERM/);
      await anonymous.connect().catch(() => undefined);
      await expect(anonymous.get('trayb:matches')).rejects.toThrow(/NOAUTH/);
    } finally {
      for (const client of [service, controller, anonymous]) client.disconnect();
    }
  });
});
