// The "Stream and consumer groups" row: the controller's view of the Redis Stream and of
// every instance's consumer group. These are the panels that say which instance is stuck.
import { controllerMetrics as c, serviceMetrics as s, thresholds as t } from '#contract';
import { runbooks } from '../alerts/rules.ts';
import {
  namespaceSelector as sel,
  query,
  runbookLinks,
  select,
  serviceNamespaceSelector,
  timeseries,
} from './common.ts';

const perGroup = (metric: string) => `max by (group) (${select(metric, sel)})`;

export const pendingPerGroup = () =>
  timeseries(
    'Pending entries per group',
    'Entries delivered to a group but not yet acknowledged; one group per service instance. ' +
      `Healthy stays under ${t.pendingWarningEntries} (orange line). Above ${t.pendingEntries} (red line) the instance is ` +
      `stuck: the controller restarts it after ${t.stuckSustainSeconds} s and StreamConsumerStuck pages if that does not help.`,
    'short',
    { warning: t.pendingWarningEntries, critical: t.pendingEntries },
  )
    .links(runbookLinks(runbooks.consumerStuck))
    .withTarget(query(perGroup(c.groupPending), '{{group}}'));

export const oldestPendingAge = () =>
  timeseries(
    'Oldest pending entry age',
    'Age of the oldest unacknowledged entry in each group. It should stay near zero; a line climbing steadily ' +
      `is an instance that reads but never acknowledges. Above ${t.oldestPendingAgeSeconds} s (red line) it counts as stuck.`,
    's',
    { critical: t.oldestPendingAgeSeconds },
  )
    .links(runbookLinks(runbooks.consumerStuck))
    .withTarget(query(perGroup(c.groupOldestPendingAge), '{{group}}'));

export const lagPerGroup = () =>
  timeseries(
    'Lag per group',
    'Entries in the stream a group has not read yet. A growing lag with low pending is an instance that stopped ' +
      `reading (check its bus errors and event-loop lag). Past ${t.laggingEntries} (red line) StreamConsumerLagging ` +
      'warns; at MAXLEN, trimming removes entries the group never read.',
    'short',
    { critical: t.laggingEntries },
  )
    .links(runbookLinks(runbooks.consumerLagging))
    .withTarget(query(perGroup(c.groupLag), '{{group}}'));

export const consumerIdle = () =>
  timeseries(
    'Consumer idle time',
    "Seconds since each group's consumer last read. A read blocks for up to REALTIME_STREAM_READ_BLOCK_MS, so a " +
      `few seconds is normal; idle for ${t.idleReadBlocks} read blocks while lag grows is one of the controller's stuck ` +
      'signals. A group disappears from these panels as soon as its pod is terminating or gone (Redis keeps it ' +
      'until the controller collects it), so a line that ends at an eviction is the remediation working.',
    's',
  ).withTarget(query(perGroup(c.groupConsumerIdle), '{{group}}'));

export const streamLength = () =>
  timeseries(
    'Stream length against MAXLEN',
    'Entries kept in the stream and the MAXLEN cap. Sitting at the cap is normal for a busy stream; what matters is ' +
      'how much time that holds: when publishing turns the stream over faster than clients reconnect, resuming ' +
      'clients get a resync instead of a replay (StreamNearMaxLen). Raise REALTIME_STREAM_MAXLEN if so.',
    'short',
  )
    .links(runbookLinks(runbooks.nearMaxLen))
    .withTarget(query(`max(${select(c.streamLength, sel)})`, 'length'))
    .withTarget(query(`max(${select(c.streamMaxLen, sel)})`, 'MAXLEN'));

export const replayWindow = () =>
  timeseries(
    'Replay window (estimated)',
    'How much history the stream holds at the current publish rate: MAXLEN divided by events published per second. ' +
      `A client that reconnects within this window gets what it missed; later, it gets a resync. Below ` +
      `${t.minReplayWindowSeconds} s (the line) while the stream is at its cap, StreamNearMaxLen warns: raise MAXLEN ` +
      'or find the producer that is flooding.',
    's',
    { floor: t.minReplayWindowSeconds },
  )
    .links(runbookLinks(runbooks.nearMaxLen))
    .withTarget(
      query(
        `max(${select(c.streamMaxLen, sel)}) / sum(rate(${select(s.eventsPublished, serviceNamespaceSelector)}[$__rate_interval]))`,
        'replay window',
      ),
    );
