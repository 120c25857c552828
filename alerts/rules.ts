// The alert rules for the realtime path, as data. Every number and every metric name comes
// from the contract (#contract: its thresholds and metric names), so the controller, the
// dashboards and the alerts cannot drift apart. Conventions follow the monitoring mixins: a
// `severity` label, a `for:` that rides out blips, and summary / description / runbook_url
// annotations. Rules on the path's own metric names match them in any job (no other exporter
// uses those names, and a Prometheus set up without the bundle's ServiceMonitors still gets
// them); the rules about targets being there at all read `up`, which every target has, so
// they name the jobs from alerts/config.ts.
import {
  controllerMetrics,
  serviceMetrics,
  type DropReason,
  type RemediationResult,
  type SkippedRemediationReason,
  thresholds,
} from '#contract';
import { alertConfig, type AlertConfig } from './config.ts';

export type Severity = 'critical' | 'warning';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  /** `severity` routes the alert; `cause` tells apart the rules of one alert that has several. */
  readonly labels: { readonly severity: Severity; readonly cause?: string };
  readonly annotations: {
    readonly summary: string;
    readonly description: string;
    readonly runbook_url: string;
  };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** Where the runbooks are published; each alert links `${runbookBaseUrl}/<runbook>.md`. */
export const runbookBaseUrl = 'https://github.com/trayb/trayb-realtime/blob/main/docs/runbooks';

/** The runbook files in docs/runbooks/, one per on-call situation. */
export const runbooks = {
  droppedEvents: 'sse-dropped-events-high',
  consumerStuck: 'stream-consumer-stuck',
  consumerLagging: 'stream-consumer-lagging',
  nearMaxLen: 'stream-near-maxlen',
  controllerDown: 'realtime-controller-down',
  remediationFailing: 'realtime-remediation-failing',
  serviceDown: 'realtime-service-down',
  deliveryLatency: 'sse-delivery-latency-high',
} as const;

export const runbookUrl = (runbook: string) => `${runbookBaseUrl}/${runbook}.md`;

// Slow clients are what the on-call can act on. Events left queued at shutdown or token
// expiry come back to the client when it resumes, so they are not a delivery problem.
const slowClientDrops: readonly DropReason[] = ['queue_full', 'slow_client_disconnected'];
/** Label matcher for the drops SSEDroppedEventsHigh counts; the dashboard draws the same. */
export const slowClientDropMatcher = `reason=~"${slowClientDrops.join('|')}"`;
const failedResult: RemediationResult = 'failed';
const budgetExhausted: SkippedRemediationReason = 'budget_exhausted';

/**
 * How much a counter grew within `window`, counting a series born inside the window from 0.
 * increase() only sees growth between samples, so a labelled counter whose first sample is
 * already 1 (its label values were first used by the failure itself) shows no increase. The
 * controller creates its remediation series at 0 for the values it knows at start; this
 * covers the rest (a policy switched to another action, a series Prometheus first scrapes
 * after it counted): a series with no sample `window` ago counts its current value, which is
 * all it grew since birth. `or` matches label sets without the metric name, so the new
 * series' value must come first or increase()'s 0 would win.
 */
const increaseFromZero = (selector: string, window: string) =>
  `((${selector} unless ${selector} offset ${window}) or increase(${selector}[${window}]))`;

/** Namespaces where a target of `job` was scraped within `lookback`, up or not. */
const seenWithin = (job: string, lookback: string) =>
  `count by (namespace) (max_over_time(up{job="${job}"}[${lookback}]))`;
/** Namespaces where at least one target of `job` answers its scrape now. */
const upNow = (job: string) => `count by (namespace) (up{job="${job}"} == 1)`;

const s = serviceMetrics;
const c = controllerMetrics;
const t = thresholds;

const delivery = (k: AlertConfig): RuleGroup => ({
  name: 'realtime-delivery',
  rules: [
    {
      alert: 'SSEDroppedEventsHigh',
      // The operations notes' threshold is a count per minute: a one-minute window shows a
      // minute of it, where a 5-minute average plus a 5-minute for: hid it.
      expr: `sum by (namespace) (increase(${s.eventsDropped}{${slowClientDropMatcher}}[${k.windows.droppedEvents}])) > ${t.droppedEventsPerMinute}`,
      for: k.for.droppedEvents,
      labels: { severity: 'critical' },
      annotations: {
        summary: `SSE clients are losing more than ${t.droppedEventsPerMinute} events per minute.`,
        description:
          `Instances in {{ $labels.namespace }} dropped {{ $value | printf "%.0f" }} events in the last ${k.windows.droppedEvents} because client queues are full ` +
          `or slow clients are being cut off. Those clients receive a resync and must refetch over REST.`,
        runbook_url: runbookUrl(runbooks.droppedEvents),
      },
    },
    {
      alert: 'SSEDeliveryLatencyHigh',
      expr:
        `histogram_quantile(0.99, sum by (namespace, le) (rate(${s.deliveryLatency}_bucket[${k.windows.deliveryLatency}]))) ` +
        `> ${t.deliveryLatencyP99Seconds}`,
      for: k.for.deliveryLatency,
      labels: { severity: 'warning' },
      annotations: {
        summary: `The p99 of event delivery latency is above ${t.deliveryLatencyP99Seconds} s.`,
        description:
          `In {{ $labels.namespace }}, 1 in 100 events reaches its client more than ${t.deliveryLatencyP99Seconds} s after it was published: ` +
          `slow clients, a busy event loop, or a slow stream read.`,
        runbook_url: runbookUrl(runbooks.deliveryLatency),
      },
    },
    {
      alert: 'RealtimeServiceDown',
      // No target left means no `up` series either, so the namespaces come from the lookback.
      expr: `${seenWithin(k.serviceJob, k.presenceLookback)} unless on (namespace) ${upNow(k.serviceJob)}`,
      for: k.for.serviceDown,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'No realtime service instance is up.',
        description:
          'Every service pod in {{ $labels.namespace }} is gone or fails its scrape: no browser there gets live events, ' +
          'and producers cannot publish through the service.',
        runbook_url: runbookUrl(runbooks.serviceDown),
      },
    },
  ],
});

const consumers = (k: AlertConfig): RuleGroup => ({
  name: 'realtime-stream-consumers',
  rules: [
    {
      alert: 'StreamConsumerStuck',
      expr: `max by (namespace, group) (${c.groupPending}) > ${t.pendingEntries}`,
      for: k.for.consumerStuck,
      labels: { severity: 'critical', cause: 'pending_entries' },
      annotations: {
        summary: `A stream consumer group holds more than ${t.pendingEntries} unacknowledged entries.`,
        description:
          `Group {{ $labels.group }} in {{ $labels.namespace }} has {{ $value }} pending entries: its instance reads ` +
          `but does not acknowledge, so its SSE clients are not getting events. The controller should have restarted it.`,
        runbook_url: runbookUrl(runbooks.consumerStuck),
      },
    },
    {
      alert: 'StreamConsumerStuck',
      expr: `max by (namespace, group) (${c.groupOldestPendingAge}) > ${t.oldestPendingAgeSeconds}`,
      for: k.for.consumerStuck,
      labels: { severity: 'critical', cause: 'oldest_pending_age' },
      annotations: {
        summary: `A stream consumer group has an entry pending for more than ${t.oldestPendingAgeSeconds} s.`,
        description:
          `The oldest unacknowledged entry of group {{ $labels.group }} in {{ $labels.namespace }} is {{ $value | printf "%.0f" }} s old: ` +
          `its instance stopped acknowledging, so its SSE clients are not getting events. The controller should have restarted it.`,
        runbook_url: runbookUrl(runbooks.consumerStuck),
      },
    },
    {
      alert: 'StreamConsumerPendingHigh',
      // The operations notes' stall hint: well below "stuck", but a healthy reader acknowledges
      // each batch within milliseconds and never holds this many for minutes.
      expr: `max by (namespace, group) (${c.groupPending}) > ${t.pendingWarningEntries}`,
      for: k.for.consumerPending,
      labels: { severity: 'warning' },
      annotations: {
        summary: `A stream consumer group holds more than ${t.pendingWarningEntries} unacknowledged entries.`,
        description:
          `Group {{ $labels.group }} in {{ $labels.namespace }} has {{ $value }} pending entries: its instance acknowledges ` +
          `slowly and may be stalling. Above ${t.pendingEntries} it counts as stuck and is restarted.`,
        runbook_url: runbookUrl(runbooks.consumerStuck),
      },
    },
    {
      alert: 'StreamConsumerLagging',
      expr: `max by (namespace, group) (${c.groupLag}) > ${t.laggingEntries}`,
      for: k.for.consumerLagging,
      labels: { severity: 'warning' },
      annotations: {
        summary: `A stream consumer group is more than ${t.laggingEntries} entries behind the stream.`,
        description:
          `Group {{ $labels.group }} in {{ $labels.namespace }} is {{ $value }} entries behind the newest event. ` +
          `If it falls MAXLEN behind, trimming removes entries it never read and its clients miss them.`,
        runbook_url: runbookUrl(runbooks.consumerLagging),
      },
    },
    {
      alert: 'StreamNearMaxLen',
      // At the cap alone is the normal steady state of a capped stream; it matters when the
      // publish rate turns the whole stream over faster than the replay window clients need.
      expr:
        `(max by (namespace) (${c.streamLength}) >= ${t.nearMaxLenRatio} * max by (namespace) (${c.streamMaxLen})) ` +
        `and on (namespace) ` +
        `(max by (namespace) (${c.streamMaxLen}) / sum by (namespace) (rate(${s.eventsPublished}[${k.windows.publishRate}])) < ${t.minReplayWindowSeconds})`,
      for: k.for.nearMaxLen,
      labels: { severity: 'warning' },
      annotations: {
        summary: `The realtime stream keeps less than ${t.minReplayWindowSeconds} s of history for replay.`,
        description:
          `The stream in {{ $labels.namespace }} sits at its MAXLEN ({{ $value }} entries) and the publish rate turns it over ` +
          `in under ${t.minReplayWindowSeconds} s, so clients reconnecting after a longer gap get a resync instead of a replay.`,
        runbook_url: runbookUrl(runbooks.nearMaxLen),
      },
    },
  ],
});

const controller = (k: AlertConfig): RuleGroup => ({
  name: 'realtime-controller',
  rules: [
    {
      alert: 'RealtimeControllerDown',
      // Per namespace, from the scrape targets the bundle's ServiceMonitors create: a namespace
      // counts as running the bundle while any of its service or controller targets was seen
      // within the lookback. absent() could not say which namespace, and stayed silent while
      // any other namespace or job exported the controller's metric.
      expr:
        `(${seenWithin(k.serviceJob, k.presenceLookback)} or ${seenWithin(k.controllerJob, k.presenceLookback)}) ` +
        `unless on (namespace) ${upNow(k.controllerJob)}`,
      for: k.for.controllerDown,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'No realtime controller replica is up.',
        description:
          'No controller replica in {{ $labels.namespace }} answers its scrape: stuck consumers there are not being ' +
          'restarted, and the stream and consumer-group metrics (and so StreamConsumerStuck) are missing too.',
        runbook_url: runbookUrl(runbooks.controllerDown),
      },
    },
    {
      alert: 'RealtimeControllerNoLeader',
      expr: `sum by (namespace) (${c.leader}) < 1`,
      for: k.for.controllerLease,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Realtime controller replicas run but none holds the leader lease.',
        description:
          'No controller replica in {{ $labels.namespace }} is leader, so nobody remediates stuck consumers or removes stale groups.',
        runbook_url: runbookUrl(runbooks.controllerDown),
      },
    },
    {
      alert: 'RealtimeControllerSplitBrain',
      expr: `sum by (namespace) (${c.leader}) > 1`,
      for: k.for.controllerLease,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'More than one realtime controller replica claims to be leader.',
        description:
          '{{ $value }} controller replicas in {{ $labels.namespace }} report themselves leader; two leaders can restart two pods at once.',
        runbook_url: runbookUrl(runbooks.controllerDown),
      },
    },
    {
      alert: 'RealtimeRemediationFailing',
      expr: `sum by (namespace, action) (${increaseFromZero(`${c.remediations}{result="${failedResult}"}`, k.windows.remediation)}) > 0`,
      for: k.for.remediation,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The realtime controller failed to remediate a stuck consumer.',
        description:
          `The controller in {{ $labels.namespace }} tried {{ $labels.action }} and it failed in the last ${k.windows.remediation}; ` +
          'the stuck instance is probably still running.',
        runbook_url: runbookUrl(runbooks.remediationFailing),
      },
    },
    {
      alert: 'RealtimeRemediationBudgetExhausted',
      expr: `sum by (namespace) (${increaseFromZero(`${c.skippedRemediations}{reason="${budgetExhausted}"}`, k.windows.remediation)}) > 0`,
      for: k.for.remediation,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The realtime controller used up its hourly remediation budget.',
        description:
          'The controller in {{ $labels.namespace }} wanted to restart a stuck instance but its hourly budget is spent: ' +
          'consumers are getting stuck faster than one bad pod explains.',
        runbook_url: runbookUrl(runbooks.remediationFailing),
      },
    },
  ],
});

/** The rule groups for a deployment's jobs and durations, in the order the YAML lists them. */
export function alertRuleGroups(config: AlertConfig): readonly RuleGroup[] {
  return [delivery(config), consumers(config), controller(config)];
}

/** The bundle's rules: alerts/generated/realtime-alerts.yaml. */
export const ruleGroups: readonly RuleGroup[] = alertRuleGroups(alertConfig);
