// The results of `npm run bench:redis`: the raw samples (kept as JSON, so a later run can be
// compared with this one) and the table of medians. Redis's cost per event splits into what
// the producer's XADD or PUBLISH costs alone (the 0-reader rows) and what each reader adds;
// the second part is what grows with the number of instances.
import type { MachineInfo } from './proc.ts';
import { median } from './report.ts';

/**
 * streams: service instances reading through their groups; before: the same from another
 * checkout (an earlier commit); pubsub: plain Pub/Sub subscriber processes, the reference.
 */
export type Target = 'streams' | 'before' | 'pubsub';

const TITLES: Record<Target, string> = { before: 'before', streams: 'streams', pubsub: 'Pub/Sub' };

/** One measurement: N readers, one rate, `seconds` of publishing. */
export interface RedisSample {
  readonly run: number;
  readonly target: Target;
  readonly instances: number;
  readonly rate: number;
  readonly seconds: number;
  readonly sent: number;
  readonly expected: number;
  readonly received: number;
  /** Redis CPU (all threads) over the measurement, from schedstat. */
  readonly redisCpuNs: number;
  /** The same from /proc/<pid>/stat, in 10 ms ticks: a cross-check, too coarse on its own. */
  readonly redisStatSeconds: number;
  /** Redis CPU per second with the same readers connected and nothing published. */
  readonly redisIdleNsPerSecond: number;
  /** Calls per command (lower case) over the measurement, from INFO commandstats. */
  readonly calls: Record<string, number>;
  /** CPU of the readers' processes over the measurement. */
  readonly readersCpuNs: number;
  /** CPU of this process (producer and SSE clients). */
  readonly benchCpuNs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly load: string;
}

export interface RedisBenchReport {
  readonly label: string;
  readonly startedAt: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly settings: {
    readonly instances: readonly number[];
    readonly rates: readonly number[];
    readonly runs: number;
    readonly durationSeconds: number;
    readonly targets: readonly Target[];
    readonly beforeEntry: string | undefined;
    readonly serviceEnv: readonly string[];
  } & Record<string, unknown>;
  readonly samples: readonly RedisSample[];
}

const fmt = (value: number, digits = 1) =>
  Number.isNaN(value)
    ? 'n/a'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Redis CPU per event (all readers together), µs. */
const perEvent = (s: RedisSample) => s.redisCpuNs / 1000 / Math.max(1, s.sent);

export function redisMarkdown(report: RedisBenchReport): string {
  const { targets, instances: counts, rates } = report.settings;
  const of = (target: Target, instances: number, rate: number) =>
    report.samples.filter((s) => s.target === target && s.instances === instances && s.rate === rate);
  const med = (list: readonly RedisSample[], value: (s: RedisSample) => number) => median(list.map(value));
  // Both builds of the service publish with the same XADD: one producer-alone measurement serves both.
  const alone = (target: Target, rate: number) => of(target === 'before' ? 'streams' : target, 0, rate);
  const reading = (target: Target, instances: number, rate: number) =>
    instances === 0
      ? Number.NaN
      : (med(of(target, instances, rate), perEvent) - med(alone(target, rate), perEvent)) / instances;
  const row = (instances: number, rate: number, cells: string[]) =>
    `| ${instances === 0 ? '0 (producer alone)' : instances} | ${rate} | ${cells.join(' | ')} |\n`;
  const header = (columns: string[]) =>
    `| readers | ev/s | ${columns.join(' | ')} |\n|---:|---:|${columns.map(() => '---:').join('|')}|\n`;

  const readers = targets.filter((t) => t !== 'pubsub');
  let redisTable = header([
    ...targets.map((t) => `${TITLES[t]}: Redis µs per reader-event (reading alone)`),
    ...readers.map((t) => `${TITLES[t]}: calls per event`),
    'load (1 min)',
  ]);
  let clientTable = header([
    ...readers.map((t) => `${TITLES[t]}: instance CPU µs per reader-event`),
    ...targets.map((t) => `${TITLES[t]}: p50 / p99 ms`),
    ...targets.map((t) => `${TITLES[t]}: delivered`),
  ]);
  for (const instances of counts)
    for (const rate of rates) {
      const samples = (t: Target) => of(t, instances, rate);
      const cost = (t: Target) => {
        const list = samples(t);
        if (list.length === 0) return 'n/a';
        const total = fmt(med(list, perEvent) / Math.max(1, instances));
        return instances === 0 ? total : `${total} (${fmt(reading(t, instances, rate))})`;
      };
      const calls = (t: Target) =>
        ['xadd', 'xreadgroup', 'xack']
          .map((command) => [command, med(samples(t), (s) => (s.calls[command] ?? 0) / Math.max(1, s.sent))] as const)
          .filter(([, n]) => n > 0)
          .map(([command, n]) => `${command.toUpperCase()} ${fmt(n, 2)}`)
          .join(', ') || 'n/a';
      const loads = targets.flatMap((t) => samples(t).map((s) => s.load.split(' ')[0])).join(', ');
      redisTable += row(instances, rate, [...targets.map(cost), ...readers.map(calls), loads]);
      if (instances === 0) continue;
      clientTable += row(instances, rate, [
        ...readers.map((t) => fmt(med(samples(t), (s) => s.readersCpuNs / 1000 / Math.max(1, s.sent * s.instances)))),
        ...targets.map((t) => `${fmt(med(samples(t), (s) => s.p50Ms))} / ${fmt(med(samples(t), (s) => s.p99Ms))}`),
        ...targets.map(
          (t) =>
            `${fmt(
              med(samples(t), (s) => (s.received / Math.max(1, s.expected)) * 100),
              2,
            )} %`,
        ),
      ]);
    }
  const m = report.machine;
  const idle = median(report.samples.map((s) => s.redisIdleNsPerSecond / 1000));
  const env =
    report.settings.serviceEnv.length > 0 ? ` Service environment: ${report.settings.serviceEnv.join(' ')}.` : '';
  const before = report.settings.beforeEntry === undefined ? '' : ` "before" runs ${report.settings.beforeEntry}.`;
  return (
    `## ${report.label} (${report.startedAt})\n\n\`${report.command}\`\n\n` +
    `Redis CPU per event and reader; in brackets what each reader adds once the producer's own XADD or PUBLISH ` +
    `(the "producer alone" rows) is taken off.${before}${env}\n\n` +
    redisTable +
    `\nThe readers' side: CPU of the instances (or subscriber processes) per event they read, and publish→receive ` +
    `latency at one SSE client per instance (or in each subscriber).\n\n` +
    clientTable +
    `\nMedians of ${report.settings.runs} runs, ${report.settings.durationSeconds} s of publishing each. Redis CPU from ` +
    `/proc/<pid>/task/*/schedstat, everything included: an idle Redis here spends ${fmt(idle, 0)} µs/s (median), ` +
    `which alone is ${fmt(idle / 100)} µs per event at 100 ev/s. Machine: ${m.cpuModel}, ${m.cores} cores, ` +
    `${m.memoryGiB} GiB, Linux ${m.kernel}; Node ${m.node}, Redis ${m.redis}; load average at start ${m.loadAtStart}.\n`
  );
}
