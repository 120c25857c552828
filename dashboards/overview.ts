// The top "At a glance" row: one number per alert, coloured by the same thresholds the
// alerts use, so the on-call sees at once which part of the path is unhealthy.
import { controllerMetrics as c, serviceMetrics as s, thresholds as t } from '#contract';
import { runbooks, slowClientDropMatcher } from '../alerts/rules.ts';
import { instanceSelector, namespaceSelector, query, runbookLinks, select, stat } from './common.ts';

export const connectedClients = () =>
  stat(
    'Connected clients',
    'SSE clients connected to the selected instances right now. Compare with the usual level for this time of ' +
      'day; a cliff means an instance or the ingress dropped them.',
    'short',
  )
    .links(runbookLinks(runbooks.serviceDown))
    .withTarget(query(`sum(${select(s.connections, instanceSelector)})`, 'clients'));

export const droppedPerMinute = () =>
  stat(
    'Dropped / min',
    `Events lost to slow clients per minute (full queues and slow-client disconnects; drops at shutdown or token ` +
      `expiry come back on resume and are not counted). Red from ${t.droppedEventsPerMinute}, ` +
      'where SSEDroppedEventsHigh fires: see the dropped-events panel for the reason.',
    'short',
    { critical: t.droppedEventsPerMinute },
  )
    .links(runbookLinks(runbooks.droppedEvents))
    .withTarget(
      query(
        `sum(rate(${select(s.eventsDropped, instanceSelector, slowClientDropMatcher)}[$__rate_interval])) * 60`,
        'dropped/min',
      ),
    );

export const worstPending = () =>
  stat(
    'Most pending (any group)',
    `The largest pending count of any consumer group. Orange from ${t.pendingWarningEntries}, red from ` +
      `${t.pendingEntries} where the group counts as stuck: find it in the pending-per-group panel.`,
    'short',
    { warning: t.pendingWarningEntries, critical: t.pendingEntries },
  )
    .links(runbookLinks(runbooks.consumerStuck))
    .withTarget(query(`max(${select(c.groupPending, namespaceSelector)})`, 'pending'));

export const worstPendingAge = () =>
  stat(
    'Oldest pending (any group)',
    `Age of the oldest unacknowledged entry of any group. Red from ${t.oldestPendingAgeSeconds} s, where the group ` +
      'counts as stuck and the controller should restart its instance.',
    's',
    { critical: t.oldestPendingAgeSeconds },
  )
    .links(runbookLinks(runbooks.consumerStuck))
    .withTarget(query(`max(${select(c.groupOldestPendingAge, namespaceSelector)})`, 'age'));

export const worstLag = () =>
  stat(
    'Largest lag (any group)',
    `Entries the furthest-behind group has not read yet. Red from ${t.laggingEntries}, where StreamConsumerLagging warns.`,
    'short',
    { critical: t.laggingEntries },
  )
    .links(runbookLinks(runbooks.consumerLagging))
    .withTarget(query(`max(${select(c.groupLag, namespaceSelector)})`, 'lag'));

export const leaders = () =>
  stat(
    'Controller leaders',
    'Controller replicas holding the leader lease. Exactly 1 is healthy; 0 means no remediation happens, more ' +
      'than 1 means the lease is broken. No value at all means the controller is not scraped (RealtimeControllerDown).',
    'short',
  )
    .links(runbookLinks(runbooks.controllerDown))
    .withTarget(query(`sum(${select(c.leader, namespaceSelector)})`, 'leaders'));
