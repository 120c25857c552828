// Turns the runs into medians and the side-by-side table (markdown), kept with the raw
// numbers (JSON) so a later run can be compared with this one.
import type { MachineInfo } from './proc.ts';

export interface FanoutSample {
  readonly rate: number;
  readonly subscribers: number;
  readonly expected: number;
  readonly delivered: number;
  readonly deliveriesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly serverCpuSeconds: number;
  readonly cpuMicrosPerDelivery: number;
  readonly redisCpuSeconds: number;
  /** Events per socket read on the client side: above 1 when writes or segments carried several. */
  readonly eventsPerRead: number;
  /** CPU the load client (this process) used per second of publishing: near 1 means it was the bottleneck. */
  readonly clientCpuShare: number;
  readonly load: string;
}

export interface RunSample {
  readonly run: number;
  readonly idleConnections: number;
  readonly idleBytesPerConnection: number;
  readonly backlogEvents: number;
  readonly backlogReceived: number;
  readonly backlogResumeMs: number;
  readonly fanout: readonly FanoutSample[];
  readonly loadAtEnd: string;
}

export interface TargetResult {
  readonly target: string;
  readonly description: string;
  readonly runs: readonly RunSample[];
}

export interface BenchReport {
  readonly label: string;
  readonly startedAt: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly settings: Record<string, unknown>;
  readonly results: readonly TargetResult[];
}

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface FanoutSummary {
  readonly rate: number;
  readonly deliveredRatio: number;
  readonly deliveriesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMicrosPerDelivery: number;
  readonly redisCpuMicrosPerDelivery: number;
  readonly clientCpuShare: number;
  readonly eventsPerRead: number;
}

export interface TargetSummary {
  readonly target: string;
  readonly fanout: readonly FanoutSummary[];
  /** Highest deliveries/s of a rate whose median p99 ≤ 100 ms with ≥ 99.9 % delivered. */
  readonly bestDeliveriesPerSecondWithinP99: number;
  readonly idleBytesPerConnection: number;
  readonly backlogResumeMs: number;
  readonly backlogComplete: boolean;
}

export function summarise(result: TargetResult): TargetSummary {
  const rates = [...new Set(result.runs.flatMap((run) => run.fanout.map((sample) => sample.rate)))].sort(
    (a, b) => a - b,
  );
  const fanout = rates.map((rate) => {
    const samples = result.runs.flatMap((run) => run.fanout.filter((sample) => sample.rate === rate));
    return {
      rate,
      deliveredRatio: median(samples.map((s) => s.delivered / s.expected)),
      deliveriesPerSecond: median(samples.map((s) => s.deliveriesPerSecond)),
      p50Ms: median(samples.map((s) => s.p50Ms)),
      p99Ms: median(samples.map((s) => s.p99Ms)),
      cpuMicrosPerDelivery: median(samples.map((s) => s.cpuMicrosPerDelivery)),
      redisCpuMicrosPerDelivery: median(samples.map((s) => (s.redisCpuSeconds * 1e6) / Math.max(1, s.delivered))),
      clientCpuShare: median(samples.map((s) => s.clientCpuShare)),
      eventsPerRead: median(samples.map((s) => s.eventsPerRead ?? Number.NaN)),
    };
  });
  const within = fanout.filter((f) => f.p99Ms <= 100 && f.deliveredRatio >= 0.999);
  return {
    target: result.target,
    fanout,
    bestDeliveriesPerSecondWithinP99: within.length === 0 ? 0 : Math.max(...within.map((f) => f.deliveriesPerSecond)),
    idleBytesPerConnection: median(result.runs.map((run) => run.idleBytesPerConnection)),
    backlogResumeMs: median(result.runs.map((run) => run.backlogResumeMs)),
    backlogComplete: result.runs.every((run) => run.backlogReceived === run.backlogEvents),
  };
}

const fmt = (value: number, digits = 1) =>
  Number.isNaN(value)
    ? 'n/a'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function markdown(report: BenchReport): string {
  const summaries = report.results.map(summarise);
  const header = `| measurement | ${summaries.map((s) => s.target).join(' | ')} |\n|---|${summaries.map(() => '---:').join('|')}|\n`;
  const row = (name: string, cell: (s: TargetSummary) => string) =>
    `| ${name} | ${summaries.map(cell).join(' | ')} |\n`;
  let table = header;
  const rates = summaries[0]?.fanout.map((f) => f.rate) ?? [];
  const subscribers = report.settings.subscribers as number;
  for (const [index, rate] of rates.entries()) {
    const at = (s: TargetSummary) => s.fanout[index];
    const label = `${subscribers.toLocaleString('en-US')} subs × ${rate} ev/s`;
    table += row(`${label}: delivered`, (s) => `${fmt((at(s)?.deliveredRatio ?? Number.NaN) * 100, 2)} %`);
    table += row(`${label}: deliveries/s`, (s) => fmt(at(s)?.deliveriesPerSecond ?? Number.NaN, 0));
    table += row(
      `${label}: p50 / p99 ms`,
      (s) => `${fmt(at(s)?.p50Ms ?? Number.NaN)} / ${fmt(at(s)?.p99Ms ?? Number.NaN)}`,
    );
    table += row(`${label}: server CPU µs/delivery`, (s) => fmt(at(s)?.cpuMicrosPerDelivery ?? Number.NaN, 2));
    table += row(`${label}: Redis CPU µs/delivery`, (s) => fmt(at(s)?.redisCpuMicrosPerDelivery ?? Number.NaN, 3));
    table += row(`${label}: events per client read`, (s) => fmt(at(s)?.eventsPerRead ?? Number.NaN, 2));
    table += row(`${label}: load client CPU share`, (s) => `${fmt((at(s)?.clientCpuShare ?? Number.NaN) * 100, 0)} %`);
  }
  table += row('best deliveries/s with p99 ≤ 100 ms', (s) => fmt(s.bestDeliveriesPerSecondWithinP99, 0));
  table += row(`RSS per idle connection (${String(report.settings.idleConnections)} open), bytes`, (s) =>
    fmt(s.idleBytesPerConnection, 0),
  );
  table += row(
    `resume a ${String(report.settings.backlog)}-event backlog, ms`,
    (s) => `${fmt(s.backlogResumeMs, 0)}${s.backlogComplete ? '' : ' (incomplete)'}`,
  );
  const loads = report.results.flatMap((r) => r.runs.flatMap((run) => run.fanout.map((f) => f.load.split(' ')[0])));
  const m = report.machine;
  const targets = report.results.map((r) => `- ${r.target}: ${r.description}`).join('\n');
  return (
    `## ${report.label} (${report.startedAt})\n\n` +
    `\`${report.command}\`\n\n` +
    `${targets}\n\n` +
    table +
    `\nMedians of ${String(report.settings.runs)} runs. Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}; ` +
    `Node ${m.node}, ${m.nginx}, Redis ${m.redis}. Load average (1 min) at start ${m.loadAtStart.split(' ')[0]}, ` +
    `during runs ${loads.join(', ')} (the machine is shared: timings are noisy).\n`
  );
}
