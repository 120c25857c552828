// `npm run bench:redis`: what one Redis pays per event and per reading instance. For each
// number of instances and publish rate it starts N service instances on one throwaway
// redis-server (each reads every event through its own consumer group, with one SSE client
// attached), publishes at a steady rate exactly as the service does (XADD MAXLEN ~ through
// EventPublisher), and measures Redis's CPU from the scheduler (/proc/<pid>/task/*/schedstat),
// the commands per event (INFO commandstats deltas), the instances' own CPU and the
// publish→receive latency at the clients. In the same run, N plain Pub/Sub subscriber
// processes and PUBLISH of the same payload give the reference. Medians go to a markdown
// table and the raw samples to JSON, both under --out.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '#test-support/free-port';
import { startThrowawayRedis } from '#test-support/throwaway-redis';
import { signToken } from '../src/auth/index.ts';
import { EventPublisher, normaliseEvent } from '../src/bus/index.ts';
import { SERVICE_NODE_FLAGS } from '../src/node-flags.ts';
import { LatencyHistogram, Subscriber, closeAll, eventsReceived, nowMs, type TargetProtocol } from './load-client.ts';
import { rerunWithPriority } from './priority.ts';
import { allowedCpus, cpuNanos, cpuSeconds, loadAverage, machineInfo } from './proc.ts';
import { redisMarkdown, type RedisBenchReport, type RedisSample, type Target } from './redis-report.ts';
import { startService, type RunningService } from './service-process.ts';

const { values: args } = parseArgs({
  options: {
    // 0: the producer alone, whose cost the per-reader column takes off.
    instances: { type: 'string', default: '0,1,8,32' },
    rates: { type: 'string', default: '100,500,1000' },
    // streams: the service's instances; before: the same from --before-entry; pubsub: the reference.
    targets: { type: 'string' },
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    idle: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench-results' },
    label: { type: 'string', default: 'bench-redis' },
    // Another checkout's service/src/main.ts (an earlier commit), measured as target "before".
    'before-entry': { type: 'string' },
    'service-env': { type: 'string', multiple: true, default: [] },
    nice: { type: 'string', default: '0' },
  },
});

rerunWithPriority(args.nice, allowedCpus());

const settings = {
  instances: args.instances.split(',').map(Number),
  rates: args.rates.split(',').map(Number),
  targets: (args.targets ?? (args['before-entry'] === undefined ? 'streams,pubsub' : 'before,streams,pubsub')).split(
    ',',
  ) as Target[],
  runs: Number(args.runs),
  durationSeconds: Number(args.duration),
  warmupSeconds: Number(args.warmup),
  idleSeconds: Number(args.idle),
  beforeEntry: args['before-entry'],
  serviceEnv: args['service-env'],
  nice: Number(args.nice),
  maxLen: 5000,
};

/** N readers of one topic: service instances with a client each, or Pub/Sub subscriber processes. */
interface Fleet {
  readonly pids: readonly number[];
  /** Publish→receive latencies of what the readers received. */
  readonly latencies: LatencyHistogram;
  /** Events received so far, over all readers (their latencies are in `latencies` once this resolves). */
  received(): Promise<number>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (pids: readonly number[], read: (pid: number) => number) =>
  pids.reduce((total, pid) => {
    try {
      return total + read(pid);
    } catch {
      return total; // a process that already ended
    }
  }, 0);

const ROOM = 'bench';

function benchEvent(seq: number) {
  return { matchId: ROOM, action: 'match:updated' as const, data: { pt: nowMs(), seq } };
}

async function commandCalls(admin: Redis): Promise<Record<string, number>> {
  const info = await admin.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1] as string] = Number(match[2]);
  return calls;
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [command, calls] of Object.entries(after)) {
    const d = calls - (before[command] ?? 0);
    // The bench's own INFO calls are not the workload.
    if (d > 0 && command !== 'info') out[command] = d;
  }
  return out;
}

/** Publishes one event at a time on its schedule, as independent producers would, without waiting for answers. */
async function publishAtRate(send: (seq: number) => Promise<unknown>, rate: number, seconds: number): Promise<number> {
  const total = Math.round(rate * seconds);
  const started = nowMs();
  const answers: Promise<boolean>[] = [];
  for (let seq = 0; seq < total; seq++) {
    const wait = started + (seq * 1000) / rate - nowMs();
    if (wait >= 1) await sleep(wait);
    answers.push(
      send(seq).then(
        () => true,
        () => false,
      ),
    );
  }
  return (await Promise.all(answers)).filter(Boolean).length;
}

async function startStreamsFleet(
  redisUrl: string,
  key: string,
  instances: number,
  entry: string | undefined,
): Promise<Fleet> {
  const secret = randomBytes(32).toString('hex');
  const env = Object.fromEntries(settings.serviceEnv.map((pair) => pair.split('=', 2) as [string, string]));
  const services: RunningService[] = [];
  // A few at a time: dozens of Node processes compiling at once on two cores take minutes.
  for (let i = 0; i < instances; i += 4) {
    const wave = Array.from({ length: Math.min(4, instances - i) }, async (_, j) =>
      startService({
        port: await freePort(),
        metricsPort: await freePort(),
        redisUrl,
        secret,
        streamKey: key,
        maxLen: settings.maxLen,
        heartbeatMs: 15_000,
        cpus: allowedCpus(),
        env: { POD_NAME: `bench-${i + j}`, MATCHES_KEY: `${key}:matches`, ...env },
        nodeFlags: SERVICE_NODE_FLAGS,
        ...(entry === undefined ? {} : { entry }),
        readyTimeoutMs: 120_000,
      }),
    );
    services.push(...(await Promise.all(wave)));
  }
  const user = await signToken(secret, { sub: 'bench-user', role: 'user', rooms: [ROOM] }, { expiresIn: '2h' });
  const latencies = new LatencyHistogram();
  const subscribers = await Promise.all(
    services.map(async (service) => {
      const protocol: TargetProtocol = {
        port: Number(new URL(service.url).port),
        subscribePath: (room) => `/api/realtime/stream?matchId=${room}`,
        subscribeHeaders: `Authorization: Bearer ${user}\r\n`,
        publishPath: () => '',
        publishHeaders: {},
        publishBody: () => '',
      };
      const subscriber = new Subscriber({ protocol, room: ROOM, histogram: latencies, localAddress: '127.0.0.1' });
      await subscriber.ready;
      return subscriber;
    }),
  );
  return {
    pids: services.map((service) => service.pid),
    latencies,
    received: async () => eventsReceived(subscribers),
    stop: async () => {
      closeAll(subscribers);
      await Promise.all(services.map((service) => service.stop()));
    },
  };
}

async function startPubSubFleet(redisUrl: string, channel: string, subscribers: number): Promise<Fleet> {
  const entry = join(import.meta.dirname, 'pubsub-subscriber.ts');
  const children: ChildProcess[] = [];
  for (let i = 0; i < subscribers; i++) {
    const child = fork(entry, [redisUrl, channel], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
  }
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`a Pub/Sub subscriber exited with ${code}`)));
          child.once('message', () => resolve());
        }),
    ),
  );
  const ask = (child: ChildProcess) =>
    new Promise<{ events: number; latencies: number[] }>((resolve) => {
      child.once('message', resolve);
      child.send({ type: 'report' });
    });
  const latencies = new LatencyHistogram();
  return {
    pids: children.map((child) => child.pid as number),
    latencies,
    received: async () => {
      let total = 0;
      for (const report of await Promise.all(children.map(ask))) {
        total += report.events;
        for (const latency of report.latencies) latencies.record(latency);
      }
      return total;
    },
    stop: async () => {
      await Promise.all(
        children.map(async (child) => {
          child.removeAllListeners('exit');
          const exited = once(child, 'exit');
          child.send({ type: 'stop' });
          await exited;
        }),
      );
    },
  };
}

/** The producer alone: what XADD or PUBLISH costs before anyone reads. */
function noReaders(): Fleet {
  return { pids: [], latencies: new LatencyHistogram(), received: async () => 0, stop: async () => undefined };
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  while (!(await check()) && nowMs() < deadline) await sleep(100);
}

const redisVersion = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  .stdout.trim()
  .replace(/^Redis server v=(\S+).*$/, '$1');
const redis = await startThrowawayRedis();
const redisPid = redis.pid as number;
const admin = new Redis(redis.url, { protocol: 2, connectionName: 'bench:admin' });
const producerConnection = new Redis(redis.url, { protocol: 2, connectionName: 'bench:producer' });
const startedAt = new Date().toISOString();
const samples: RedisSample[] = [];
let fleet: Fleet | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void Promise.allSettled([fleet?.stop(), redis.stop()]).then(() => process.exit(130));
  });

async function measureFleet(run: number, target: Target, instances: number): Promise<void> {
  const key = `bench-redis:${run}:${instances}:${randomBytes(3).toString('hex')}:events`;
  fleet =
    instances === 0
      ? noReaders()
      : target === 'pubsub'
        ? await startPubSubFleet(redis.url, key, instances)
        : await startStreamsFleet(redis.url, key, instances, target === 'before' ? settings.beforeEntry : undefined);
  const readers = fleet;
  const publisher = new EventPublisher(
    producerConnection,
    { key, groupPrefix: 'realtime-consumers', maxLen: settings.maxLen },
    { published: () => undefined, failed: () => undefined },
  );
  const send =
    target === 'pubsub'
      ? (seq: number) => producerConnection.publish(key, JSON.stringify(normaliseEvent(benchEvent(seq))))
      : (seq: number) => publisher.emitRealtimeEvent(benchEvent(seq));
  try {
    await sleep(1000);
    const idleBefore = cpuNanos(redisPid);
    await sleep(settings.idleSeconds * 1000);
    const redisIdleNsPerSecond = (cpuNanos(redisPid) - idleBefore) / settings.idleSeconds;
    const histogram = readers.latencies;
    for (const rate of settings.rates) {
      await publishAtRate(send, rate, settings.warmupSeconds);
      await sleep(500);
      const receivedBefore = await readers.received();
      histogram.reset();
      const callsBefore = await commandCalls(admin);
      const redisBefore = cpuNanos(redisPid);
      const statBefore = cpuSeconds(redisPid);
      const readersBefore = sum(readers.pids, cpuNanos);
      const benchBefore = process.cpuUsage();
      const sent = await publishAtRate(send, rate, settings.durationSeconds);
      const expected = sent * instances;
      let received = 0;
      await until(async () => (received = (await readers.received()) - receivedBefore) >= expected, 5000);
      const redisCpuNs = cpuNanos(redisPid) - redisBefore;
      const redisStatSeconds = cpuSeconds(redisPid) - statBefore;
      const readersCpuNs = sum(readers.pids, cpuNanos) - readersBefore;
      const bench = process.cpuUsage(benchBefore);
      const calls = delta(await commandCalls(admin), callsBefore);
      const sample: RedisSample = {
        run,
        target,
        instances,
        rate,
        seconds: settings.durationSeconds,
        sent,
        expected,
        received,
        redisCpuNs,
        redisStatSeconds,
        redisIdleNsPerSecond,
        calls,
        readersCpuNs,
        benchCpuNs: (bench.user + bench.system) * 1000,
        p50Ms: histogram.quantile(0.5),
        p99Ms: histogram.quantile(0.99),
        load: loadAverage(),
      };
      samples.push(sample);
      const perInstanceEvent = redisCpuNs / 1000 / Math.max(1, sent) / Math.max(1, instances);
      const commands = Object.entries(calls)
        .map(([command, n]) => `${command} ${(n / Math.max(1, sent)).toFixed(2)}`)
        .join(', ');
      process.stderr.write(
        `  ${target} × ${instances} at ${rate} ev/s: Redis ${perInstanceEvent.toFixed(1)} µs per instance-event ` +
          `(${commands} per event), ${received}/${expected} delivered, p99 ${sample.p99Ms} ms, load ${sample.load}\n`,
      );
      await sleep(1000);
    }
  } finally {
    await readers.stop();
    fleet = undefined;
    await admin.del(key, `${key}:matches`);
  }
}

try {
  for (let run = 1; run <= settings.runs; run++)
    for (const instances of settings.instances)
      // Targets take turns within each run, so a change in the machine's load hits them alike.
      for (const target of settings.targets) {
        // The producer alone is the same XADD for both builds of the service.
        if (instances === 0 && target === 'before' && settings.targets.includes('streams')) continue;
        process.stderr.write(`run ${run}/${settings.runs}: ${target}, ${instances} readers (load ${loadAverage()})\n`);
        await measureFleet(run, target, instances);
      }
} finally {
  admin.disconnect();
  producerConnection.disconnect();
  await redis.stop();
}

const report: RedisBenchReport = {
  label: args.label,
  startedAt,
  command: `npm run bench:redis -- ${process.argv.slice(2).join(' ')}`.trim(),
  machine: machineInfo({ nginx: 'not used', redis: redisVersion }),
  settings,
  samples,
};
const table = redisMarkdown(report);
mkdirSync(args.out, { recursive: true });
const base = join(args.out, `${args.label}-${startedAt.replace(/[:.]/g, '-')}`);
writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(`${base}.md`, table);
process.stdout.write(`${table}\nwritten: ${base}.md, ${base}.json\n`);
