// The "SSE clients" row: who is connected, how fast they churn, what they receive, what
// they lose, and how late it reaches them. All per service instance.
import { dropReasons, serviceMetrics as s, thresholds as t } from '#contract';
import { runbooks, slowClientDropMatcher } from '../alerts/rules.ts';
import { instanceSelector as sel, query, runbookLinks, select, timeseries } from './common.ts';

const rate = (metric: string, extra = '') => `rate(${select(metric, sel, extra)}[$__rate_interval])`;

export const connections = () =>
  timeseries(
    'Connected SSE clients',
    'Open SSE connections per instance. A sudden drop to zero on one instance means it restarted or stopped ' +
      'accepting clients: check its pod. A steady climb with flat traffic can mean connections are not being closed.',
    'short',
  )
    .links(runbookLinks(runbooks.serviceDown))
    .withTarget(query(`sum by (instance) (${select(s.connections, sel)})`, '{{instance}}'));

export const churn = () =>
  timeseries(
    'Connection churn',
    'Connections opened and closed per second. Opens tracking closes closely at a high rate means clients reconnect ' +
      'in a loop (every 5 s is the retry hint): look at disconnect causes and at the instance logs.',
    'ops',
  )
    .withTarget(query(`sum by (instance) (${rate(s.connectionsOpened)})`, 'opened {{instance}}'))
    .withTarget(query(`sum by (instance) (${rate(s.disconnects)})`, 'closed {{instance}}'));

export const eventsSent = () =>
  timeseries(
    'Events sent / published',
    'Events written to SSE sockets per instance, against events published to the stream. Sent is roughly ' +
      'published × clients interested; sent falling to zero while published continues means the instance stopped ' +
      'delivering: check the consumer-group panels below for its group.',
    'ops',
  )
    .withTarget(query(`sum by (instance) (${rate(s.eventsSent)})`, 'sent {{instance}}'))
    .withTarget(query(`sum by (action) (${rate(s.eventsPublished)})`, 'published {{action}}'));

export const droppedPerMinute = () =>
  timeseries(
    'Dropped events / min',
    `Events that did not reach a client, per minute, by reason (${dropReasons.join(', ')}). The red line is the ` +
      `SSEDroppedEventsHigh threshold (${t.droppedEventsPerMinute}/min over all instances, slow-client reasons only). ` +
      'queue_full and slow_client_disconnected mean slow clients: find them (one network? one room?) before raising ' +
      'SSE_CLIENT_QUEUE_LIMIT. shutdown and token_expired drops come back on resume; a burst during a rollout is expected.',
    'short',
    { critical: t.droppedEventsPerMinute },
  )
    .links(runbookLinks(runbooks.droppedEvents))
    .withTarget(query(`sum by (reason) (${rate(s.eventsDropped)}) * 60`, '{{reason}}'))
    .withTarget(query(`sum(${rate(s.eventsDropped, slowClientDropMatcher)}) * 60`, 'total (alerting)'));

const latencyQuantile = (q: number) => `histogram_quantile(${q}, sum by (le) (${rate(`${s.deliveryLatency}_bucket`)}))`;

export const deliveryLatency = () =>
  timeseries(
    'Delivery latency p50 / p99',
    'Time from the event being published to its write on the client socket, across selected instances. ' +
      `p99 above ${t.deliveryLatencyP99Seconds} s (orange line) with normal p50 points at a few slow clients or a busy ` +
      'event loop (see the Node row); both rising together points at the stream read or Redis.',
    's',
    { warning: t.deliveryLatencyP99Seconds },
  )
    .links(runbookLinks(runbooks.deliveryLatency))
    .withTarget(query(latencyQuantile(0.5), 'p50'))
    .withTarget(query(latencyQuantile(0.99), 'p99'));
