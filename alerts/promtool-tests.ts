// The `promtool test rules` cases: for every alert, series that must make it fire and
// healthy series (just on the good side of the threshold) that must keep it silent. The
// series are built from the same thresholds as the rules, so moving a threshold moves the
// tests with it. Expected annotations are expanded here from the rules' own templates.
import {
  controllerMetrics as c,
  serviceMetrics as s,
  type DropReason,
  type RemediationResult,
  type SkippedRemediationReason,
  thresholds as t,
} from '#contract';
import { alertConfig } from './config.ts';
import { ruleGroups, type AlertRule } from './rules.ts';

export interface InputSeries {
  readonly series: string;
  readonly values: string;
}

export interface ExpectedAlert {
  readonly exp_labels: Record<string, string>;
  readonly exp_annotations: Record<string, string>;
}

export interface PromtoolTest {
  readonly name: string;
  readonly interval: string;
  readonly input_series: readonly InputSeries[];
  readonly alert_rule_test: readonly { eval_time: string; alertname: string; exp_alerts: readonly ExpectedAlert[] }[];
}

const ns = 'realtime';
const group = 'realtime-consumers:realtime-6d5f7-x2k9q';
const healthyGroup = 'realtime-consumers:realtime-6d5f7-b7m4c';

/** Expands the subset of Prometheus' Go templates the rules use; anything else is an error. */
export function expandTemplate(template: string, labels: Record<string, string>, value: number): string {
  return template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_match, body: string) => {
    const label = /^\$labels\.([a-zA-Z_]\w*)$/.exec(body);
    if (label) return labels[label[1] ?? ''] ?? '';
    if (body === '$value') return String(value);
    if (body === '$value | printf "%.0f"') return value.toFixed(0);
    throw new Error(`template {{ ${body} }} is not supported by the promtool test generator`);
  });
}

/** The `index`-th rule raising `alertname` (an alert may have several rules, one per cause). */
function ruleNamed(alertname: string, index = 0): AlertRule {
  const rule = ruleGroups.flatMap((g) => g.rules).filter((r) => r.alert === alertname)[index];
  if (!rule) throw new Error(`no alert rule #${index} named ${alertname}`);
  return rule;
}

/** The alert a rule raises for `labels` (the expression's own labels) at `value`. */
function raised(rule: AlertRule, labels: Record<string, string>, value: number): ExpectedAlert {
  const annotations = Object.fromEntries(
    Object.entries(rule.annotations).map(([key, template]) => [key, expandTemplate(template, labels, value)]),
  );
  return { exp_labels: { ...labels, ...rule.labels }, exp_annotations: annotations };
}

const series = (name: string, labels: Record<string, string>, values: string): InputSeries => ({
  series: `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`,
  values,
});

/** One test: `bad` series must raise `alerts` at evalTime; `healthy` series must raise nothing. */
function bothWays(
  alertname: string,
  evalTime: string,
  bad: { series: InputSeries[]; alerts: ExpectedAlert[]; what: string },
  healthy: { series: InputSeries[]; what: string },
): PromtoolTest[] {
  return [
    {
      name: `${alertname} fires when ${bad.what}`,
      interval: '1m',
      input_series: bad.series,
      alert_rule_test: [{ eval_time: evalTime, alertname, exp_alerts: bad.alerts }],
    },
    {
      name: `${alertname} stays silent when ${healthy.what}`,
      interval: '1m',
      input_series: healthy.series,
      alert_rule_test: [{ eval_time: evalTime, alertname, exp_alerts: [] }],
    },
  ];
}

const pod = (name: string) => ({ namespace: ns, instance: `${name}:9464` });
const dropped = (name: string, reason: DropReason, values: string) =>
  series(s.eventsDropped, { ...pod(name), reason }, values);
const controllerPod = (name: string) => ({ namespace: ns, instance: `${name}:9465` });

function droppedEvents(): PromtoolTest[] {
  const rule = ruleNamed('SSEDroppedEventsHigh');
  // Two instances sharing the load: the alert is on the namespace-wide rate.
  const perInstance = t.droppedEventsPerMinute; // each drops this many a minute, together twice the limit
  const under = Math.floor(t.droppedEventsPerMinute / 4);
  return bothWays(
    'SSEDroppedEventsHigh',
    '20m',
    {
      what: `two instances together drop ${2 * perInstance} queued events a minute`,
      series: [
        dropped('realtime-a', 'queue_full', `0+${perInstance}x30`),
        dropped('realtime-b', 'slow_client_disconnected', `0+${perInstance}x30`),
      ],
      alerts: [raised(rule, { namespace: ns }, 2 * perInstance)],
    },
    {
      what: `slow-client drops stay under the limit while shutdown and token-expiry drops are heavy`,
      series: [
        dropped('realtime-a', 'queue_full', `0+${under}x30`),
        dropped('realtime-b', 'queue_full', `0+${under}x30`),
        dropped('realtime-b', 'shutdown', `0+${10 * t.droppedEventsPerMinute}x30`),
        dropped('realtime-a', 'token_expired', `0+${10 * t.droppedEventsPerMinute}x30`),
      ],
    },
  );
}

/** The notes' case: one minute of drops over the limit pages, scraped every 15 s as the bundle does. */
function droppedForOneMinute(): PromtoolTest[] {
  const rule = ruleNamed('SSEDroppedEventsHigh');
  const quarter = (perMinute: number) => perMinute / 4;
  // Quiet for a minute, a minute of drops at `perMinute`, quiet again (samples every 15 s).
  const oneMinuteAt = (perMinute: number) => `0 0 0 0 0+${quarter(perMinute)}x4 ${perMinute}+0x12`;
  const over = 2 * t.droppedEventsPerMinute;
  const under = Math.floor(0.8 * t.droppedEventsPerMinute);
  return [
    {
      name: `SSEDroppedEventsHigh fires after one minute of ${over} drops/min`,
      interval: '15s',
      input_series: [dropped('realtime-a', 'queue_full', oneMinuteAt(over))],
      alert_rule_test: [
        { eval_time: '2m', alertname: 'SSEDroppedEventsHigh', exp_alerts: [raised(rule, { namespace: ns }, over)] },
        // A minute after the flood stopped, the one-minute window is clean again.
        { eval_time: '3m15s', alertname: 'SSEDroppedEventsHigh', exp_alerts: [] },
      ],
    },
    {
      name: `SSEDroppedEventsHigh stays silent for one minute of ${under} drops/min`,
      interval: '15s',
      input_series: [dropped('realtime-a', 'queue_full', oneMinuteAt(under))],
      alert_rule_test: [{ eval_time: '2m', alertname: 'SSEDroppedEventsHigh', exp_alerts: [] }],
    },
  ];
}

function deliveryLatency(): PromtoolTest[] {
  const rule = ruleNamed('SSEDeliveryLatencyHigh');
  const p99 = t.deliveryLatencyP99Seconds;
  // Cumulative bucket counts per minute: `fast` events under half the threshold, `slow` ones
  // between the threshold and 2.5 times it.
  const buckets = (fast: number, slow: number) =>
    (
      [
        [p99 / 2, fast],
        [p99, fast],
        [p99 * 2.5, fast + slow],
        ['+Inf', fast + slow],
      ] as const
    ).map(([le, perMinute]) =>
      series(`${s.deliveryLatency}_bucket`, { ...pod('realtime-a'), le: String(le) }, `0+${perMinute}x30`),
    );
  return bothWays(
    'SSEDeliveryLatencyHigh',
    '20m',
    {
      what: 'one event in ten takes over the p99 threshold',
      series: buckets(900, 100),
      alerts: [raised(rule, { namespace: ns }, 0)],
    },
    { what: 'one event in a thousand takes over the p99 threshold', series: buckets(999, 1) },
  );
}

function serviceDown(): PromtoolTest[] {
  const rule = ruleNamed('RealtimeServiceDown');
  const up = (instance: string, values: string, namespace = ns) =>
    series('up', { job: alertConfig.serviceJob, namespace, instance }, values);
  const staging = up('realtime-s:9464', '1+0x20', 'realtime-staging');
  const controller = series(
    'up',
    { job: alertConfig.controllerJob, namespace: ns, instance: 'controller-a:9465' },
    '1+0x20',
  );
  return bothWays(
    'RealtimeServiceDown',
    '10m',
    {
      what: "every service pod's target vanishes while another namespace's service runs",
      series: [up('realtime-a:9464', '1 1 1 stale'), up('realtime-b:9464', '1 1 1 1 stale'), staging, controller],
      alerts: [raised(rule, { namespace: ns }, 2)],
    },
    {
      what: 'a rollout replaces the pods one at a time',
      series: [
        up('realtime-a:9464', '1 1 1 stale'),
        up('realtime-b:9464', '1 1 1 1 1 stale'),
        up('realtime-c:9464', '_ _ _ 1+0x17'),
        up('realtime-d:9464', '_ _ _ _ _ 1+0x15'),
        controller,
      ],
    },
  );
}

function consumerPending(): PromtoolTest[] {
  const rule = ruleNamed('StreamConsumerPendingHigh');
  const stalling = t.pendingWarningEntries + 50;
  return bothWays(
    'StreamConsumerPendingHigh',
    '10m',
    {
      what: `a group keeps ${stalling} entries pending`,
      series: [
        series(c.groupPending, { ...controllerPod('controller-a'), group }, `${stalling}+0x20`),
        series(c.groupPending, { ...controllerPod('controller-a'), group: healthyGroup }, '3+0x20'),
      ],
      alerts: [raised(rule, { namespace: ns, group }, stalling)],
    },
    {
      what: `a burst holds ${stalling} pending for two minutes`,
      series: [
        series(c.groupPending, { ...controllerPod('controller-a'), group }, `3 3 3 3 3 ${stalling} ${stalling} 3+0x14`),
      ],
    },
  );
}

function consumerStuck(): PromtoolTest[] {
  const byPending = ruleNamed('StreamConsumerStuck', 0);
  const byAge = ruleNamed('StreamConsumerStuck', 1);
  const stuck = { namespace: ns, group };
  const healthy = (pending: number, age: number) => [
    series(c.groupPending, { ...controllerPod('controller-a'), group: healthyGroup }, `${pending}+0x20`),
    series(c.groupOldestPendingAge, { ...controllerPod('controller-a'), group: healthyGroup }, `${age}+0x20`),
  ];
  const pending = t.pendingEntries + 100;
  const age = t.oldestPendingAgeSeconds * 4;
  return [
    ...bothWays(
      'StreamConsumerStuck',
      '10m',
      {
        what: `a group holds ${pending} pending entries`,
        series: [
          series(c.groupPending, { ...controllerPod('controller-a'), group }, `${pending}+0x20`),
          series(c.groupOldestPendingAge, { ...controllerPod('controller-a'), group }, `2+0x20`),
          ...healthy(3, 1),
        ],
        alerts: [raised(byPending, stuck, pending)],
      },
      {
        what: `pending and oldest age sit exactly at their limits`,
        series: healthy(t.pendingEntries, t.oldestPendingAgeSeconds),
      },
    ),
    ...bothWays(
      'StreamConsumerStuck',
      '10m',
      {
        what: `a group's oldest pending entry is ${age} s old`,
        series: [
          series(c.groupPending, { ...controllerPod('controller-a'), group }, `12+0x20`),
          series(c.groupOldestPendingAge, { ...controllerPod('controller-a'), group }, `${age}+0x20`),
          ...healthy(3, 1),
        ],
        alerts: [raised(byAge, stuck, age)],
      },
      {
        // Stuck for less than the rule's `for:` is a blip the controller handles.
        what: `a group is stuck for one minute only`,
        series: [
          series(c.groupPending, { ...controllerPod('controller-a'), group }, `3 3 3 3 3 3 3 3 ${pending} 3+0x12`),
          series(c.groupOldestPendingAge, { ...controllerPod('controller-a'), group }, `1 1 1 1 1 1 1 1 ${age} 1+0x12`),
        ],
      },
    ),
  ];
}

function consumerLagging(): PromtoolTest[] {
  const rule = ruleNamed('StreamConsumerLagging');
  const lag = t.laggingEntries * 3;
  return bothWays(
    'StreamConsumerLagging',
    '15m',
    {
      what: `a group stays ${lag} entries behind`,
      series: [series(c.groupLag, { ...controllerPod('controller-a'), group }, `${lag}+0x20`)],
      alerts: [raised(rule, { namespace: ns, group }, lag)],
    },
    {
      what: `groups stay within ${t.laggingEntries} entries`,
      series: [series(c.groupLag, { ...controllerPod('controller-a'), group }, `0+${t.laggingEntries / 20}x20`)],
    },
  );
}

/**
 * Groups of pods that are gone: the controller stops exporting a group once its pod is
 * terminating or absent, so Prometheus ends the series with a staleness marker. The alerts
 * must let go then, not page on a frozen count until the group is collected.
 */
function vanishedPods(): PromtoolTest[] {
  const byPending = ruleNamed('StreamConsumerStuck', 0);
  const pending = t.pendingEntries + 100;
  const newGroup = 'realtime-consumers:realtime-7c8d9-n4p2r';
  const stuckSeries = series(c.groupPending, { ...controllerPod('controller-a'), group }, `${pending}+0x4 stale`);
  return [
    {
      name: 'StreamConsumerStuck resolves at the next evaluation after the evicted pod stops being exported',
      interval: '1m',
      input_series: [
        stuckSeries,
        series(c.groupPending, { ...controllerPod('controller-a'), group: healthyGroup }, '3+0x20'),
      ],
      alert_rule_test: [
        {
          eval_time: '4m',
          alertname: 'StreamConsumerStuck',
          exp_alerts: [raised(byPending, { namespace: ns, group }, pending)],
        },
        { eval_time: '6m', alertname: 'StreamConsumerStuck', exp_alerts: [] },
      ],
    },
    {
      // A rollout: the old pod's group stops reading and its lag grows until the pod is gone;
      // the new pod's group starts at the tip of the stream.
      name: 'StreamConsumerLagging stays silent through a rollout whose old group lags until its pod is gone',
      interval: '1m',
      input_series: [
        series(c.groupLag, { ...controllerPod('controller-a'), group }, `0 0 ${t.laggingEntries * 2} stale`),
        series(c.groupLag, { ...controllerPod('controller-a'), group: newGroup }, `_ _ 0+0x20`),
      ],
      alert_rule_test: [
        { eval_time: '8m', alertname: 'StreamConsumerLagging', exp_alerts: [] },
        { eval_time: '15m', alertname: 'StreamConsumerLagging', exp_alerts: [] },
      ],
    },
  ];
}

function nearMaxLen(): PromtoolTest[] {
  const rule = ruleNamed('StreamNearMaxLen');
  const maxLen = 5000;
  // Publishing at twice the rate that would just fill the replay window.
  const fastPerMinute = Math.ceil((2 * 60 * maxLen) / t.minReplayWindowSeconds);
  const slowPerMinute = Math.floor((60 * maxLen) / t.minReplayWindowSeconds / 2);
  const stream = [
    series(c.streamLength, controllerPod('controller-a'), `${maxLen}+0x40`),
    series(c.streamMaxLen, controllerPod('controller-a'), `${maxLen}+0x40`),
  ];
  return bothWays(
    'StreamNearMaxLen',
    '35m',
    {
      what: `the stream is at MAXLEN and turns over in ${(60 * maxLen) / fastPerMinute} s`,
      series: [
        ...stream,
        series(s.eventsPublished, { ...pod('realtime-a'), action: 'match:updated' }, `0+${fastPerMinute}x40`),
      ],
      alerts: [raised(rule, { namespace: ns }, maxLen)],
    },
    {
      what: `the stream is at MAXLEN but holds ${(60 * maxLen) / slowPerMinute} s of history`,
      series: [
        ...stream,
        series(s.eventsPublished, { ...pod('realtime-a'), action: 'match:updated' }, `0+${slowPerMinute}x40`),
      ],
    },
  );
}

function controllerHealth(): PromtoolTest[] {
  const down = ruleNamed('RealtimeControllerDown');
  const noLeader = ruleNamed('RealtimeControllerNoLeader');
  const splitBrain = ruleNamed('RealtimeControllerSplitBrain');
  const leaders = (a: number, b: number) => [
    series(c.leader, controllerPod('controller-a'), `${a}+0x20`),
    series(c.leader, controllerPod('controller-b'), `${b}+0x20`),
  ];
  // What Prometheus records for every target of the bundle's two jobs, in namespace `namespace`.
  const up = (job: string, instance: string, values: string, namespace = ns) =>
    series('up', { job, namespace, instance }, values);
  const serviceUp = [up(alertConfig.serviceJob, 'realtime-a:9464', '1+0x20')];
  const controllersUp = (values: string, namespace = ns) => [
    up(alertConfig.controllerJob, 'controller-a:9465', values, namespace),
    up(alertConfig.controllerJob, 'controller-b:9465', values, namespace),
  ];
  // Another installation of the bundle, healthy, in its own namespace.
  const staging = [
    ...controllersUp('1+0x20', 'realtime-staging'),
    series(c.leader, { namespace: 'realtime-staging', instance: 'controller-a:9465' }, '1+0x20'),
  ];
  return [
    ...bothWays(
      'RealtimeControllerDown',
      '10m',
      {
        what: 'no controller replica is scraped where the service runs, while another namespace has its controller',
        series: [...serviceUp, ...staging],
        alerts: [raised(down, { namespace: ns }, 1)],
      },
      {
        what: 'one leader and one standby are scraped',
        series: [...serviceUp, ...controllersUp('1+0x20'), ...leaders(1, 0)],
      },
    ),
    ...bothWays(
      'RealtimeControllerDown',
      '12m',
      {
        // A vanished target's series end in a staleness marker, as Prometheus writes them.
        what: 'both controller replicas vanish from the targets while the service runs',
        series: [...serviceUp, ...controllersUp('1 1 1 1 stale'), ...staging],
        alerts: [raised(down, { namespace: ns }, 1)],
      },
      {
        what: 'one controller replica restarts (down for two scrapes) and the other stays up',
        series: [
          ...serviceUp,
          up(alertConfig.controllerJob, 'controller-a:9465', '1 1 1 0 0 1+0x15'),
          up(alertConfig.controllerJob, 'controller-b:9465', '1+0x20'),
        ],
      },
    ),
    ...bothWays(
      'RealtimeControllerNoLeader',
      '10m',
      { what: 'both replicas are standby', series: leaders(0, 0), alerts: [raised(noLeader, { namespace: ns }, 0)] },
      { what: 'one replica leads', series: leaders(0, 1) },
    ),
    ...bothWays(
      'RealtimeControllerSplitBrain',
      '10m',
      {
        what: 'both replicas claim the lease',
        series: leaders(1, 1),
        alerts: [raised(splitBrain, { namespace: ns }, 2)],
      },
      { what: 'one replica leads', series: leaders(1, 0) },
    ),
  ];
}

function remediation(): PromtoolTest[] {
  const failing = ruleNamed('RealtimeRemediationFailing');
  const budget = ruleNamed('RealtimeRemediationBudgetExhausted');
  const remediations = (result: RemediationResult, values: string) =>
    series(
      c.remediations,
      { ...controllerPod('controller-a'), action: 'evict', reason: 'pending_entries', result },
      values,
    );
  const skipped = (reason: SkippedRemediationReason, values: string) =>
    series(c.skippedRemediations, { ...controllerPod('controller-a'), reason }, values);
  return [
    ...bothWays(
      'RealtimeRemediationFailing',
      '10m',
      {
        what: 'an eviction fails',
        series: [remediations('done', '0+0x20'), remediations('failed', '0 0 0 0 0 1+0x16')],
        alerts: [raised(failing, { namespace: ns, action: 'evict' }, 1)],
      },
      {
        what: 'evictions succeed',
        series: [remediations('done', '0 0 0 0 1 1 2+0x14'), remediations('failed', '0+0x20')],
      },
    ),
    {
      // A counter series is born when its first label combination is used; a controller
      // that did not pre-create it would show the first failure as a series starting at 1.
      name: 'RealtimeRemediationFailing fires on the first failure of a series that starts at 1',
      interval: '1m',
      input_series: [remediations('done', '0+0x20'), remediations('failed', '_ _ _ _ _ 1+0x16')],
      alert_rule_test: [
        {
          eval_time: '10m',
          alertname: 'RealtimeRemediationFailing',
          exp_alerts: [raised(failing, { namespace: ns, action: 'evict' }, 1)],
        },
      ],
    },
    {
      name: 'RealtimeRemediationBudgetExhausted fires on the first skip of a series that starts at 1',
      interval: '1m',
      input_series: [skipped('pod_cooldown', '0+0x20'), skipped('budget_exhausted', '_ _ _ _ _ 1+0x16')],
      alert_rule_test: [
        {
          eval_time: '10m',
          alertname: 'RealtimeRemediationBudgetExhausted',
          exp_alerts: [raised(budget, { namespace: ns }, 1)],
        },
      ],
    },
    ...bothWays(
      'RealtimeRemediationBudgetExhausted',
      '10m',
      {
        what: 'a remediation is skipped for lack of budget',
        series: [skipped('budget_exhausted', '0 0 0 0 0 1+0x15')],
        alerts: [raised(budget, { namespace: ns }, 1)],
      },
      {
        what: 'remediations are only held back by a cooldown',
        series: [skipped('pod_cooldown', '0 0 0 1 2 3+0x15'), skipped('budget_exhausted', '0+0x20')],
      },
    ),
  ];
}

/** The promtool test file's content, rules loaded from `ruleFile` (relative to the test file). */
export function promtoolTestFile(ruleFile: string) {
  return {
    rule_files: [ruleFile],
    evaluation_interval: '1m',
    tests: [
      ...droppedEvents(),
      ...droppedForOneMinute(),
      ...deliveryLatency(),
      ...serviceDown(),
      ...consumerStuck(),
      ...consumerPending(),
      ...consumerLagging(),
      ...vanishedPods(),
      ...nearMaxLen(),
      ...controllerHealth(),
      ...remediation(),
    ],
  };
}
