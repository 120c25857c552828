// Prometheus text that looks like what the service and the controller export: the metric
// names, types and labels of the contract (#contract), with counters that grow at
// configurable rates from a start time. Used to prove the dashboards' and alerts' PromQL
// against a real Prometheus before (and besides) the real processes.
import { controllerMetrics as c, dropReasons, serviceMetrics as s, type DropReason } from '#contract';

/** Seconds since `since`, with a head start so counters look like a process that has been up a while. */
const uptime = (since: number, now: number) => (now - since) / 1000 + 600;

interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly samples: readonly { suffix?: string; labels?: Record<string, string>; value: number }[];
}

const labelText = (labels: Record<string, string> = {}) => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
};

function render(families: readonly Family[]): string {
  return families
    .map((f) =>
      [
        `# HELP ${f.name} ${f.name}`,
        `# TYPE ${f.name} ${f.type}`,
        ...f.samples.map((x) => `${f.name}${x.suffix ?? ''}${labelText(x.labels)} ${x.value}`),
      ].join('\n'),
    )
    .join('\n')
    .concat('\n');
}

export interface ServiceScenario {
  connections: number;
  /** Events written to sockets per second. */
  sentPerSecond: number;
  /** Dropped events per minute by reason (missing reasons drop nothing). */
  droppedPerMinute: Partial<Record<DropReason, number>>;
  publishedPerSecond: number;
  eventLoopLagSeconds: number;
}

export const healthyService = (): ServiceScenario => ({
  connections: 40,
  sentPerSecond: 25,
  droppedPerMinute: { queue_full: 1 },
  publishedPerSecond: 2,
  eventLoopLagSeconds: 0.012,
});

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function serviceExposition(scenario: ServiceScenario, since: number, now = Date.now()): string {
  const t = uptime(since, now);
  const sent = scenario.sentPerSecond * t;
  // Most deliveries within 25 ms, a tail to a second.
  const share = (le: number) => (le < 0.01 ? 0.3 : le < 0.025 ? 0.7 : le < 0.1 ? 0.9 : le < 1 ? 0.99 : 1);
  return render([
    { name: s.connections, type: 'gauge', samples: [{ value: scenario.connections }] },
    { name: s.connectionsOpened, type: 'counter', samples: [{ value: Math.floor(0.5 * t) }] },
    { name: s.disconnects, type: 'counter', samples: [{ value: Math.floor(0.5 * t) - scenario.connections }] },
    { name: s.eventsSent, type: 'counter', samples: [{ value: Math.floor(sent) }] },
    {
      name: s.eventsDropped,
      type: 'counter',
      samples: dropReasons.map((reason) => ({
        labels: { reason },
        value: Math.floor(((scenario.droppedPerMinute[reason] ?? 0) / 60) * t),
      })),
    },
    {
      name: s.deliveryLatency,
      type: 'histogram',
      samples: [
        ...latencyBuckets.map((le) => ({
          suffix: '_bucket',
          labels: { le: String(le) },
          value: Math.floor(sent * share(le)),
        })),
        { suffix: '_bucket', labels: { le: '+Inf' }, value: Math.floor(sent) },
        { suffix: '_sum', value: sent * 0.02 },
        { suffix: '_count', value: Math.floor(sent) },
      ],
    },
    {
      name: s.eventsPublished,
      type: 'counter',
      samples: [
        { labels: { action: 'match:updated' }, value: Math.floor(scenario.publishedPerSecond * 0.8 * t) },
        { labels: { action: 'match:created' }, value: Math.floor(scenario.publishedPerSecond * 0.2 * t) },
      ],
    },
    { name: s.busReads, type: 'counter', samples: [{ value: Math.floor(t / 2) }] },
    { name: s.busLastRead, type: 'gauge', samples: [{ value: Math.floor(now / 1000) - 1 }] },
    { name: s.busErrors, type: 'counter', samples: [{ value: 0 }] },
    { name: s.eventLoopLag, type: 'gauge', samples: [{ value: scenario.eventLoopLagSeconds }] },
    { name: s.eventLoopLagP99, type: 'gauge', samples: [{ value: scenario.eventLoopLagSeconds * 2 }] },
    { name: s.processCpuSeconds, type: 'counter', samples: [{ value: 0.15 * t }] },
    { name: s.processResidentMemory, type: 'gauge', samples: [{ value: 90 * 1024 * 1024 }] },
  ]);
}

export interface GroupState {
  group: string;
  pending: number;
  oldestPendingAgeSeconds: number;
  lag: number;
  consumerIdleSeconds: number;
}

export interface ControllerScenario {
  streamLength: number;
  maxLen: number;
  groups: GroupState[];
  leader: 0 | 1;
  /** Failed remediations per hour (0 for a healthy controller). */
  failedPerHour: number;
}

export const healthyGroup = (group: string): GroupState => ({
  group,
  pending: 2,
  oldestPendingAgeSeconds: 0.4,
  lag: 0,
  consumerIdleSeconds: 1.5,
});

export function controllerExposition(scenario: ControllerScenario, since: number, now = Date.now()): string {
  const t = uptime(since, now);
  const perGroup = (name: string, pick: (g: GroupState) => number): Family => ({
    name,
    type: 'gauge',
    samples: scenario.groups.map((g) => ({ labels: { group: g.group }, value: pick(g) })),
  });
  return render([
    { name: c.streamLength, type: 'gauge', samples: [{ value: scenario.streamLength }] },
    { name: c.streamMaxLen, type: 'gauge', samples: [{ value: scenario.maxLen }] },
    perGroup(c.groupPending, (g) => g.pending),
    perGroup(c.groupOldestPendingAge, (g) => g.oldestPendingAgeSeconds),
    perGroup(c.groupLag, (g) => g.lag),
    perGroup(c.groupConsumerIdle, (g) => g.consumerIdleSeconds),
    {
      name: c.remediations,
      type: 'counter',
      samples: [
        { labels: { action: 'evict', reason: 'pending_entries', result: 'done' }, value: 3 },
        {
          labels: { action: 'evict', reason: 'pending_entries', result: 'failed' },
          value: Math.floor((scenario.failedPerHour / 3600) * t),
        },
      ],
    },
    { name: c.skippedRemediations, type: 'counter', samples: [{ labels: { reason: 'pod_cooldown' }, value: 1 }] },
    { name: c.staleGroupsCollected, type: 'counter', samples: [{ value: 2 }] },
    { name: c.leader, type: 'gauge', samples: [{ value: scenario.leader }] },
    { name: c.observeErrors, type: 'counter', samples: [{ value: 0 }] },
  ]);
}
