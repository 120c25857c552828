// `npm run status` against the suite's real redis-server, as the on-call engineer meets it: a
// healthy instance, a stuck one (read, never acknowledged, past the age threshold) and a
// lagging cluster worker, each said so in the table and in JSON, with the verdict the
// controller itself reaches, the exit code scripts rely on, and not one write: it runs as a
// Redis ACL user that can only read.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { groupName, workerInstance } from '#contract';
import { freePort } from '#test-support/free-port';
import { runStatusCommand, statusEntry } from '#test-support/entry-processes';
import { waitUntil } from '#test-support/prometheus';
import { loadControllerConfig } from '../src/config/controller.ts';
import { createControllerMetrics, Reconciler, RedisSource, settingsFromConfig } from '../src/controller/index.ts';
import { createRedis } from '../src/redis/index.ts';
import { StatusMonitor, renderJson, renderTable, statusSettings, type StatusReport } from '../src/status/index.ts';

const PREFIX = 'realtime-consumers';
const admin = new Redis(inject('redisUrl'), { protocol: 2 });

// A user that may read every key and run nothing that writes: any write would be refused
// (NOPERM) and counted in ACL LOG, which the tests check does not grow while the status reads.
const reader = { name: `status-reader-${randomUUID().slice(0, 8)}`, password: randomUUID() };
const readerUrl = (() => {
  const url = new URL(inject('redisUrl'));
  url.username = reader.name;
  url.password = reader.password;
  return url.toString();
})();

beforeAll(async () => {
  await admin.call(
    'ACL',
    'SETUSER',
    reader.name,
    'on',
    `>${reader.password}`,
    '%R~*',
    '-@all',
    '+@read',
    '+ping',
    '+info',
    '+time',
    '+client|setname',
  );
});
afterAll(async () => {
  await admin.call('ACL', 'DELUSER', reader.name);
  await admin.quit();
});

/** Commands refused to the reader so far (ACL LOG folds repeats into one entry's count). */
async function refusedToReader(): Promise<number> {
  const log = (await admin.call('ACL', 'LOG', '128')) as unknown[][];
  const field = (entry: unknown[], name: string) => entry[entry.indexOf(name) + 1];
  return log
    .filter((entry) => field(entry, 'username') === reader.name)
    .reduce((sum, entry) => sum + Number(field(entry, 'count')), 0);
}

async function addEntries(key: string, n: number): Promise<void> {
  const pipeline = admin.pipeline();
  for (let i = 0; i < n; i++) pipeline.xadd(key, '*', 'event', 'match:updated', 'payload', `{"n":${i}}`);
  await pipeline.exec();
}

/** Reads everything new through the instance's group, acknowledging it or not. */
async function read(key: string, instance: string, ack: boolean): Promise<void> {
  const group = groupName(PREFIX, instance);
  const reply = (await admin.xreadgroup('GROUP', group, instance, 'COUNT', 10_000, 'STREAMS', key, '>')) as
    [string, [string, string[]][]][] | null;
  const ids = reply?.[0]?.[1].map(([id]) => id) ?? [];
  if (ack && ids.length > 0) await admin.xack(key, group, ...ids);
}

async function createGroup(key: string, instance: string): Promise<void> {
  await admin.xgroup('CREATE', key, groupName(PREFIX, instance), '$', 'MKSTREAM');
}

/** Until Redis says the group's oldest pending entry and its consumer have both been idle past `ms`. */
async function idlePast(key: string, instance: string, ms: number): Promise<void> {
  await waitUntil(`${instance} idle past ${ms} ms`, 30_000, async () => {
    const consumers = (await admin.call('XINFO', 'CONSUMERS', key, groupName(PREFIX, instance))) as unknown[][];
    const idle = Number(consumers[0]?.[consumers[0].indexOf('idle') + 1] ?? 0);
    if (idle > ms) return true;
    await sleep(100);
    return undefined;
  });
}

const HEALTHY = 'web-healthy';
const STUCK = 'web-stuck';
const LAGGING = workerInstance('web-lagging', 2);

/**
 * The three instances: a lagging worker whose consumer read once and went silent while 605
 * entries arrived (lag over the contract's 500), a stuck one that read 5 entries and never
 * acknowledged them, and a healthy one that reads and acknowledges everything.
 */
async function threeGroups(key: string): Promise<void> {
  await createGroup(key, LAGGING);
  await addEntries(key, 1); // a consumer exists once it has read something
  await read(key, LAGGING, true);
  await addEntries(key, 600);
  await createGroup(key, STUCK);
  await createGroup(key, HEALTHY);
  await addEntries(key, 5);
  await read(key, STUCK, false);
  await read(key, HEALTHY, true);
  await idlePast(key, STUCK, 1500);
  await idlePast(key, LAGGING, 1500);
}

/** The thresholds the tests judge by: one second of pending age or consumer idle is too much. */
const strictEnv = (key: string, url: string) => ({
  REDIS_URL: url,
  REALTIME_STREAM_KEY: key,
  CONTROLLER_OLDEST_PENDING_AGE_SECONDS: '1',
  CONTROLLER_CONSUMER_IDLE_SECONDS: '1',
});

describe('the status of a healthy, a stuck and a lagging instance', () => {
  it('says which is which, with the verdict the controller reaches on the same stream, and never writes', async () => {
    const key = `test:status:${randomUUID()}`;
    await threeGroups(key);
    const refusedBefore = await refusedToReader();

    const { settings, redis } = statusSettings(strictEnv(key, readerUrl));
    const connection = createRedis(redis, { name: 'status-test', offlineQueue: false });
    await connection.connect();
    // The controller as it runs without cluster credentials (observe-only), on the same settings.
    const controllerConfig = loadControllerConfig(strictEnv(key, inject('redisUrl')));
    const source = new RedisSource(controllerConfig.redis);
    const controller = new Reconciler({
      defaults: settingsFromConfig(controllerConfig, false),
      cluster: undefined,
      policyName: undefined,
      redis: source,
      metrics: createControllerMetrics(),
      log: pino({ level: 'silent' }),
      clock: Date.now,
      isLeader: () => true,
      observeTimeoutMs: 5000,
    });
    try {
      const monitor = new StatusMonitor(connection, settings, Date.now);
      await monitor.sample();
      await controller.tick();
      // Producers keep writing; only the healthy instance keeps up.
      await addEntries(key, 3);
      await read(key, HEALTHY, true);
      const report = await monitor.sample();
      await controller.tick();

      expect(report.redis).toBe('ok');
      if (report.redis !== 'ok') return;
      const byInstance = Object.fromEntries(report.groups.map((g) => [g.instance, g]));
      expect(byInstance[HEALTHY]).toMatchObject({ pod: HEALTHY, pending: 0, lag: 0, verdict: { state: 'ok' } });
      expect(byInstance[HEALTHY]?.overThreshold).toBe(false);
      expect(byInstance[STUCK]).toMatchObject({
        pod: STUCK,
        pending: 5,
        verdict: { state: 'stuck', reason: 'oldest_pending_age' },
        overThreshold: true,
      });
      expect(byInstance[STUCK]?.oldestPendingAgeSeconds).toBeGreaterThan(1);
      expect(byInstance[LAGGING]).toMatchObject({
        pod: 'web-lagging',
        pending: 0,
        lag: 608,
        lagging: true,
        verdict: { state: 'stuck', reason: 'lag_growing_idle_consumer' },
        overThreshold: true,
      });
      expect(report.overThreshold).toBe(true);

      // The controller's own history holds exactly the stuck groups and reasons the report shows.
      const verdicts = Object.fromEntries(
        report.groups.flatMap((g) => (g.verdict.state === 'stuck' ? [[g.group, g.verdict.reason]] : [])),
      );
      const controllers = Object.fromEntries(
        Object.entries(controller.history.stuckSince).map(([group, stuck]) => [group, stuck.reason]),
      );
      expect(verdicts).toEqual(controllers);
      expect(Object.keys(verdicts).sort()).toEqual([groupName(PREFIX, LAGGING), groupName(PREFIX, STUCK)]);

      expect(report.stream).toMatchObject({ key, length: 609, maxLen: 5000 });
      expect(report.stream.firstId).toMatch(/^\d+-\d+$/);
      expect(report.stream.lastId).toBe((await admin.xrevrange(key, '+', '-', 'COUNT', 1))[0]?.[0]);
      expect(report.stream.ratePerSecond).toBeGreaterThan(0);
      expect(report.stream.replayWindowSeconds).toBe(Math.round(5000 / report.stream.ratePerSecond));

      const table = renderTable(report);
      const row = (instance: string) => table.split('\n').find((line) => line.startsWith(groupName(PREFIX, instance)));
      expect(row(HEALTHY)).toMatch(/\sok$/);
      expect(row(STUCK)).toMatch(/STUCK oldest_pending_age: oldest pending entry delivered [\d.]+ s ago \(limit 1 s\)/);
      expect(row(LAGGING)).toMatch(/STUCK lag_growing_idle_consumer: lag grew 605 → 608 .*LAGGING: 608 entries behind/);
      expect(row(LAGGING)).toMatch(new RegExp(`^${groupName(PREFIX, LAGGING)}\\s+web-lagging\\s`));
      expect(JSON.parse(renderJson(report))).toEqual(JSON.parse(JSON.stringify(report, (_k, v: unknown) => v ?? null)));
    } finally {
      await connection.quit();
      await source.close();
    }
    expect(await refusedToReader()).toBe(refusedBefore);
  });

  it('would have been refused any write: the reader really is read-only', async () => {
    const connection = new Redis(readerUrl, { protocol: 2 });
    const refusedBefore = await refusedToReader();
    try {
      await expect(connection.xadd(`test:status:${randomUUID()}`, '*', 'a', 'b')).rejects.toThrow(/NOPERM/);
      await expect(connection.hincrby('metrics:sse', 'dropped', 1)).rejects.toThrow(/NOPERM/);
      expect(await refusedToReader(), 'ACL LOG counts every refused write').toBe(refusedBefore + 2);
    } finally {
      await connection.quit();
    }
  });
});

describe('npm run status, the command', () => {
  let key: string;
  beforeAll(async () => {
    key = `test:status:${randomUUID()}`;
    await threeGroups(key);
  });

  it('exits 1 and prints every group when one is over a threshold', async () => {
    const refusedBefore = await refusedToReader();
    const run = await runStatusCommand([], strictEnv(key, readerUrl));
    expect(run.code, run.stderr).toBe(1);
    for (const instance of [HEALTHY, STUCK, LAGGING]) expect(run.stdout).toContain(groupName(PREFIX, instance));
    expect(run.stdout).toContain('STUCK oldest_pending_age');
    expect(run.stdout).toContain('LAGGING: 605 entries behind');
    expect(run.stdout).toMatch(/metrics:sse\s+connections \d+\s+disconnects \d+\s+dropped \d+/);
    expect(await refusedToReader()).toBe(refusedBefore);
  });

  it('exits 0 on a stream whose only group is healthy, and says so in JSON', async () => {
    const healthyOnly = `test:status:${randomUUID()}`;
    await createGroup(healthyOnly, HEALTHY);
    await addEntries(healthyOnly, 10);
    await read(healthyOnly, HEALTHY, true);
    const run = await runStatusCommand(['--json'], strictEnv(healthyOnly, readerUrl));
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as Extract<StatusReport, { redis: 'ok' }>;
    expect(report.groups).toMatchObject([{ instance: HEALTHY, verdict: { state: 'ok' }, overThreshold: false }]);
    expect(report.stream.length).toBe(10);
  });

  it('judges by --policy over the environment: the default 30 s leaves the stuck group alone, a 1 s policy does not', async () => {
    const stuckOnly = `test:status:${randomUUID()}`;
    await createGroup(stuckOnly, STUCK);
    await addEntries(stuckOnly, 5);
    await read(stuckOnly, STUCK, false);
    await idlePast(stuckOnly, STUCK, 1500);
    const env = { REDIS_URL: readerUrl, REALTIME_STREAM_KEY: stuckOnly };
    const lenient = await runStatusCommand(['--json'], env);
    expect(lenient.code, lenient.stderr).toBe(0);
    const policy = {
      apiVersion: 'realtime.trayb.io/v1alpha1',
      kind: 'StreamRemediationPolicy',
      spec: { thresholds: { oldestPendingAgeSeconds: 1 } },
    };
    const strict = await runStatusCommand(['--json', '--policy', JSON.stringify(policy)], env);
    expect(strict.code, strict.stderr).toBe(1);
    const report = JSON.parse(strict.stdout) as Extract<StatusReport, { redis: 'ok' }>;
    expect(report.groups[0]?.verdict).toMatchObject({ state: 'stuck', reason: 'oldest_pending_age' });
    expect(report.thresholds.oldestPendingAgeSeconds).toBe(1);
  });

  it('--watch prints a sample every second until interrupted', async () => {
    const child = spawn(process.execPath, [statusEntry, '--watch', '--json'], {
      env: { PATH: process.env.PATH, ...strictEnv(key, readerUrl) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit') as Promise<[number | null]>;
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitUntil('three samples', 30_000, async () => {
      if (stdout.split('\n').filter(Boolean).length >= 3) return true;
      await sleep(100);
      return undefined;
    });
    child.kill('SIGINT');
    const [code] = await exited;
    const samples = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as StatusReport);
    expect(new Set(samples.map((s) => s.observedAt)).size).toBe(samples.length);
    expect(samples.every((s) => s.overThreshold)).toBe(true);
    expect(code).toBe(1);
  });

  it('exits 2 when Redis does not answer, on a policy that does not validate and on an unknown option', async () => {
    const nobody = await runStatusCommand([], { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(nobody.code).toBe(2);
    expect(nobody.stdout).toContain('Redis unreachable');
    const invalid = await runStatusCommand(
      ['--policy', '{"thresholds":{"pendingEntries":0}}'],
      strictEnv(key, readerUrl),
    );
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('--policy: spec/thresholds/pendingEntries');
    const unknown = await runStatusCommand(['--verbose'], strictEnv(key, readerUrl));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--verbose'");
  });
});
