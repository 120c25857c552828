// `npm run bench`: nginx+nchan and our service side by side on this machine, driven by the
// same load client. Each server gets one core (taskset -c 0, one nginx worker or one Node
// process); this process, the load client, and the shared throwaway Redis run on core 1.
// Per run and server: RSS per idle connection, fan-out to N subscribers of one room at
// each publish rate (delivered/expected, publish→receive p50/p99, server CPU per delivery
// from /proc), and the time to resume a backlog with Last-Event-ID. Medians go to a
// markdown table and the raw samples to JSON, both under --out.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { signToken } from '../src/auth/index.ts';
import { freePort } from '#test-support/free-port';
import { startThrowawayRedis, type ThrowawayRedis } from '#test-support/throwaway-redis';
import {
  LatencyHistogram,
  Publisher,
  Subscriber,
  closeAll,
  connectSubscribers,
  eventsReceived,
  nowMs,
  readsMade,
  type TargetProtocol,
} from './load-client.ts';
import { nginxVersion, startNchan } from './nchan.ts';
import {
  allowedCpus,
  childPids,
  cpuSeconds,
  loadAverage,
  machineInfo,
  rssBytes,
  systemCpuSeconds,
  threadCpuSeconds,
} from './proc.ts';
import { markdown, type BenchReport, type FanoutSample, type RunSample, type TargetResult } from './report.ts';
import { SERVICE_NODE_FLAGS } from '../src/node-flags.ts';
import { startService } from './service-process.ts';
import { rerunWithPriority } from './priority.ts';

const { values: args } = parseArgs({
  options: {
    // service: as the image runs it (SERVICE_NODE_FLAGS); service-v8-defaults: without them.
    targets: { type: 'string', default: 'nchan,service,service-v8-defaults' },
    runs: { type: 'string', default: '3' },
    subscribers: { type: 'string', default: '1000' },
    rates: { type: 'string', default: '100,200,400,600' },
    duration: { type: 'string', default: '8' },
    idle: { type: 'string', default: '10000' },
    backlog: { type: 'string', default: '5000' },
    out: { type: 'string', default: 'bench-results' },
    label: { type: 'string', default: 'bench' },
    'service-env': { type: 'string', multiple: true, default: [] },
    // Extra node flags for the service targets, e.g. --node-flags=--single-threaded-gc.
    'node-flags': { type: 'string', multiple: true, default: [] },
    'service-cpus': { type: 'string', default: '0' },
    'cpu-prof': { type: 'string' },
    // On a shared machine other work steals the cores; a negative nice value (root only)
    // keeps the servers, Redis and the load client ahead of it while the bench runs.
    nice: { type: 'string', default: '0' },
  },
});

const SERVER_CPU = 0;
const CLIENT_CPU = '1';

// Re-run pinned to the client core, at the requested priority.
rerunWithPriority(args.nice, CLIENT_CPU);

const settings = {
  runs: Number(args.runs),
  subscribers: Number(args.subscribers),
  rates: args.rates.split(',').map(Number),
  durationSeconds: Number(args.duration),
  idleConnections: Number(args.idle),
  backlog: Number(args.backlog),
  /** Messages a resuming client can get back: nchan's per-channel buffer, our stream's MAXLEN. */
  bufferLength: 10_000,
  heartbeatSeconds: 15,
  serverCpu: SERVER_CPU,
  clientCpu: allowedCpus(),
  serviceEnv: args['service-env'],
  serviceCpus: args['service-cpus'],
  nice: Number(args.nice),
};

interface Server {
  readonly protocol: TargetProtocol;
  /** Processes whose CPU and memory count as the server's. */
  pids(): number[];
  stop(): Promise<void>;
}

/** CPU seconds by thread name over all of a server's processes. */
function threadsOf(server: Server): Map<string, number> {
  const total = new Map<string, number>();
  for (const pid of server.pids())
    for (const [name, seconds] of threadCpuSeconds(pid)) total.set(name, (total.get(name) ?? 0) + seconds);
  return total;
}

function withDescendants(pid: number): number[] {
  return [pid, ...childPids(pid).flatMap(withDescendants)];
}

let activeServer: Server | undefined;

const sum = (pids: number[], read: (pid: number) => number) => pids.reduce((total, pid) => total + read(pid), 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function eventBody(room: string, pt: number, seq: number): string {
  return JSON.stringify({
    matchId: room,
    action: 'match:updated',
    data: { pt, seq },
    timestamp: new Date().toISOString(),
  });
}

async function startNchanServer(redis: ThrowawayRedis): Promise<Server> {
  const port = await freePort();
  const nchan = await startNchan({
    port,
    redisPort: redis.port,
    bufferLength: settings.bufferLength,
    heartbeatSeconds: settings.heartbeatSeconds,
    cpu: SERVER_CPU,
  });
  return {
    protocol: {
      port,
      subscribePath: (room) => `/sub/${room}`,
      subscribeHeaders: '',
      publishPath: (room) => `/pub/${room}`,
      publishHeaders: { 'content-type': 'application/json' },
      publishBody: eventBody,
    },
    pids: () => [nchan.masterPid, nchan.workerPid],
    stop: () => nchan.stop(),
  };
}

async function startOurService(
  redis: ThrowawayRedis,
  rooms: string[],
  run: number,
  v8Defaults: boolean,
): Promise<Server> {
  const secret = randomBytes(32).toString('hex');
  const port = await freePort();
  const nodeFlags = [
    ...(v8Defaults ? [] : SERVICE_NODE_FLAGS),
    ...args['node-flags'],
    ...(args['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']]),
  ];
  const env = Object.fromEntries(settings.serviceEnv.map((pair) => pair.split('=', 2) as [string, string]));
  const service = await startService({
    port,
    metricsPort: await freePort(),
    redisUrl: redis.url,
    secret,
    streamKey: `bench:${run}:${randomBytes(3).toString('hex')}:events`,
    maxLen: settings.bufferLength,
    heartbeatMs: settings.heartbeatSeconds * 1000,
    cpus: settings.serviceCpus,
    env,
    nodeFlags,
  });
  const user = await signToken(secret, { sub: 'bench-user', role: 'user', rooms }, { expiresIn: '2h' });
  const producer = await signToken(secret, { sub: 'bench-producer', role: 'producer' }, { expiresIn: '2h' });
  return {
    protocol: {
      port,
      subscribePath: (room) => `/api/realtime/stream?matchId=${room}`,
      subscribeHeaders: `Authorization: Bearer ${user}\r\n`,
      publishPath: () => '/api/realtime/events',
      publishHeaders: { 'content-type': 'application/json', authorization: `Bearer ${producer}` },
      // The service stamps the timestamp itself, as it does for every producer.
      publishBody: (room, pt, seq) => JSON.stringify({ matchId: room, action: 'match:updated', data: { pt, seq } }),
    },
    pids: () => withDescendants(service.pid),
    stop: () => service.stop(),
  };
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = nowMs() + timeoutMs;
  while (!check()) {
    if (nowMs() > deadline) return false;
    await sleep(10);
  }
  return true;
}

async function idleFootprint(server: Server, room: string): Promise<number> {
  const histogram = new LatencyHistogram();
  // A few connections first, so one-time allocations (route, JIT) are not counted per connection.
  closeAll(await connectSubscribers(server.protocol, room, 50, histogram));
  await sleep(1000);
  const before = sum(server.pids(), rssBytes);
  const idle = await connectSubscribers(server.protocol, room, settings.idleConnections, histogram);
  await sleep(3000);
  const after = sum(server.pids(), rssBytes);
  closeAll(idle);
  await sleep(2000);
  return (after - before) / settings.idleConnections;
}

async function fanout(server: Server, redis: ThrowawayRedis, room: string): Promise<FanoutSample[]> {
  const histogram = new LatencyHistogram();
  const subscribers = await connectSubscribers(server.protocol, room, settings.subscribers, histogram);
  const publisher = new Publisher(server.protocol);
  await sleep(1000);
  await publisher.atRate(room, settings.rates[0] ?? 100, 2000); // warm-up, not counted
  await sleep(1000);
  const samples: FanoutSample[] = [];
  for (const rate of settings.rates) {
    histogram.reset();
    const receivedBefore = eventsReceived(subscribers);
    const readsBefore = readsMade(subscribers);
    const sentBefore = publisher.sent;
    const cpuBefore = sum(server.pids(), cpuSeconds);
    const threadsBefore = threadsOf(server);
    const systemBefore = sum(server.pids(), systemCpuSeconds);
    const redisBefore = cpuSeconds(redis.pid as number);
    const clientBefore = process.cpuUsage();
    const started = nowMs();
    await publisher.atRate(room, rate, settings.durationSeconds * 1000);
    const publishSeconds = (nowMs() - started) / 1000;
    const expected = (publisher.sent - sentBefore) * subscribers.length;
    await until(() => eventsReceived(subscribers) - receivedBefore >= expected, 5000);
    const delivered = eventsReceived(subscribers) - receivedBefore;
    const client = process.cpuUsage(clientBefore);
    const serverCpuSeconds = sum(server.pids(), cpuSeconds) - cpuBefore;
    const threads = [...threadsOf(server)]
      .map(([name, seconds]) => [name, seconds - (threadsBefore.get(name) ?? 0)] as const)
      .filter(([, seconds]) => seconds > 0);
    samples.push({
      rate,
      subscribers: subscribers.length,
      expected,
      delivered,
      deliveriesPerSecond: delivered / publishSeconds,
      p50Ms: histogram.quantile(0.5),
      p99Ms: histogram.quantile(0.99),
      serverCpuSeconds,
      cpuMicrosPerDelivery: (serverCpuSeconds * 1e6) / Math.max(1, delivered),
      redisCpuSeconds: cpuSeconds(redis.pid as number) - redisBefore,
      eventsPerRead: delivered / Math.max(1, readsMade(subscribers) - readsBefore),
      clientCpuShare: (client.user + client.system) / 1e6 / publishSeconds,
      load: loadAverage(),
    });
    const kernel = (sum(server.pids(), systemCpuSeconds) - systemBefore) / serverCpuSeconds;
    const byThread = [
      ...threads.map(([name, seconds]) => `${name} ${((seconds / serverCpuSeconds) * 100).toFixed(0)} %`),
      `in the kernel ${(kernel * 100).toFixed(0)} %`,
    ].join(', ');
    process.stderr.write(
      `  ${rate} ev/s: ${delivered}/${expected} delivered, p99 ${histogram.quantile(0.99)} ms, ${samples.at(-1)?.cpuMicrosPerDelivery.toFixed(2)} µs/delivery (${byThread})\n`,
    );
    await sleep(1000);
  }
  publisher.close();
  closeAll(subscribers);
  await sleep(1000);
  return samples;
}

async function backlogResume(server: Server, room: string): Promise<{ received: number; ms: number }> {
  const histogram = new LatencyHistogram();
  const publisher = new Publisher(server.protocol);
  const first = new Subscriber({
    protocol: server.protocol,
    room,
    histogram,
    localAddress: '127.0.0.1',
    trackIds: true,
  });
  await first.ready;
  await sleep(200);
  await publisher.publish(room);
  if (!(await until(() => first.lastId !== undefined, 5000))) throw new Error('the resume marker event never arrived');
  const lastEventId = first.lastId as string;
  first.close();
  await publisher.burst(room, settings.backlog);
  if (publisher.failed > 0) throw new Error(`${publisher.failed} backlog events were refused`);
  const started = nowMs();
  const resumed = new Subscriber({
    protocol: server.protocol,
    room,
    histogram,
    localAddress: '127.0.0.1',
    lastEventId,
  });
  await resumed.ready;
  await until(() => resumed.events >= settings.backlog, 60_000);
  const ms = nowMs() - started;
  await sleep(300); // anything past the backlog would be a duplicate
  resumed.close();
  publisher.close();
  return { received: resumed.events, ms };
}

function describe(target: string): string {
  if (target === 'nchan') return 'nginx + nchan, 1 worker on core 0, Redis storage, EventSource';
  const env = settings.serviceEnv.length > 0 ? ` ${settings.serviceEnv.join(' ')}` : '';
  const shipped = target === 'service-v8-defaults' ? [] : SERVICE_NODE_FLAGS;
  const flags = ` node ${[...shipped, ...args['node-flags']].join(' ') || '(V8 defaults)'}`;
  return `service/src/main.ts on cpus ${settings.serviceCpus}${env}${flags}`;
}

/** One run of one target on a fresh server: idle memory, fan-out at each rate, backlog resume. */
async function runOnce(target: string, run: number, redis: ThrowawayRedis): Promise<RunSample> {
  const tag = `${run}-${randomBytes(3).toString('hex')}`;
  const rooms = { idle: `idle-${tag}`, fanout: `fanout-${tag}`, backlog: `backlog-${tag}` };
  const server =
    target === 'nchan'
      ? await startNchanServer(redis)
      : await startOurService(redis, Object.values(rooms), run, target === 'service-v8-defaults');
  activeServer = server;
  try {
    process.stderr.write(`${target} run ${run}/${settings.runs} (load ${loadAverage()})\n`);
    const idleBytesPerConnection = await idleFootprint(server, rooms.idle);
    process.stderr.write(`  idle: ${idleBytesPerConnection.toFixed(0)} bytes/connection\n`);
    const samples = await fanout(server, redis, rooms.fanout);
    const backlog = await backlogResume(server, rooms.backlog);
    process.stderr.write(`  backlog: ${backlog.received}/${settings.backlog} in ${backlog.ms.toFixed(0)} ms\n`);
    return {
      run,
      idleConnections: settings.idleConnections,
      idleBytesPerConnection,
      backlogEvents: settings.backlog,
      backlogReceived: backlog.received,
      backlogResumeMs: backlog.ms,
      fanout: samples,
      loadAtEnd: loadAverage(),
    };
  } finally {
    await server.stop();
    activeServer = undefined;
  }
}

const redisVersion = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  .stdout.trim()
  .replace(/^Redis server v=(\S+).*$/, '$1');
const redis = await startThrowawayRedis();
const startedAt = new Date().toISOString();
const report: BenchReport = {
  label: args.label,
  startedAt,
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  machine: machineInfo({ nginx: nginxVersion(), redis: redisVersion }),
  settings,
  results: [],
};
try {
  const targets = args.targets.split(',');
  const runs = new Map<string, RunSample[]>(targets.map((target) => [target, []]));
  // Interrupted: stop the server and Redis this run started, then exit.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      void Promise.allSettled([activeServer?.stop(), redis.stop()]).then(() => process.exit(130));
    });
  // Targets take turns within each run, so a change in the machine's load hits them alike.
  for (let run = 1; run <= settings.runs; run++)
    for (const target of targets) runs.get(target)?.push(await runOnce(target, run, redis));
  const results: TargetResult[] = targets.map((target) => ({
    target,
    description: describe(target),
    runs: runs.get(target) ?? [],
  }));
  Object.assign(report, { results });
} finally {
  await redis.stop();
}
const table = markdown(report);
mkdirSync(args.out, { recursive: true });
const base = join(args.out, `${args.label}-${startedAt.replace(/[:.]/g, '-')}`);
writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(`${base}.md`, table);
process.stdout.write(`${table}\nwritten: ${base}.md, ${base}.json\n`);
