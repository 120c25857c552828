// The "Controller" row: what the remediation controller did, what it held back, and which
// replica leads. An on-call reads this after a stuck-consumer page.
import { GraphDrawStyle } from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { controllerMetrics as c } from '#contract';
import { runbooks } from '../alerts/rules.ts';
import { datasource, namespaceSelector as sel, query, runbookLinks, select, timeseries } from './common.ts';

const increase = (metric: string) => `increase(${select(metric, sel)}[$__rate_interval])`;

export const remediations = () =>
  timeseries(
    'Remediations',
    'Restarts or evictions the controller performed, by action, reason and result. failed means the stuck pod is ' +
      'probably still there: check the controller logs. backoff means the eviction API refused (a ' +
      'PodDisruptionBudget) and it will retry. dry_run is what it would have done with remediation switched on.',
    'short',
  )
    .links(runbookLinks(runbooks.remediationFailing))
    // Remediations are rare, discrete events: bars show each one.
    .drawStyle(GraphDrawStyle.Bars)
    .withTarget(
      query(`sum by (action, reason, result) (${increase(c.remediations)})`, '{{action}} {{reason}} {{result}}'),
    );

export const skippedRemediations = () =>
  timeseries(
    'Skipped remediations',
    'Remediations the controller wanted but held back, by reason: cooldowns, one already in flight, too few ready ' +
      'pods, Redis unreachable, backing off after a refused eviction, or the hourly budget spent. ' +
      'budget_exhausted means consumers get stuck faster than the hourly budget allows: look for a shared cause ' +
      '(Redis latency, a bad release) instead of restarting pods by hand.',
    'short',
  )
    .links(runbookLinks(runbooks.remediationFailing))
    .drawStyle(GraphDrawStyle.Bars)
    .withTarget(query(`sum by (reason) (${increase(c.skippedRemediations)})`, '{{reason}}'));

export const leader = () =>
  timeseries(
    'Leader per controller replica',
    'Which controller replica holds the leader lease (1) and which are standby (0). Exactly one line at 1 is ' +
      'healthy. None at 1 means nobody remediates; two at 1 means the lease is broken and two pods could be ' +
      'restarted at once.',
    'short',
  )
    .links(runbookLinks(runbooks.controllerDown))
    .withTarget(query(`max by (instance) (${select(c.leader, sel)})`, '{{instance}}'));

export const controllerErrors = () =>
  timeseries(
    'Controller observe errors and stale groups',
    'Failed observations of the stream (XINFO / XPENDING) and consumer groups of vanished pods removed. ' +
      'Observe errors mean the controller is blind: check its Redis connection. Stale groups removed after a ' +
      'rollout are normal housekeeping.',
    'short',
  )
    .withTarget(query(`sum(${increase(c.observeErrors)})`, 'observe errors'))
    .withTarget(query(`sum(${increase(c.staleGroupsCollected)})`, 'stale groups removed'));

/**
 * Every remediation as a marker across all panels, so a line that drops (pending, lag) or a
 * client count that dips can be read against the restart that caused it.
 */
export const remediationAnnotations = () =>
  new dashboard.AnnotationQueryBuilder()
    .name('Remediations')
    .datasource(datasource)
    .enable(true)
    .iconColor('orange')
    .expr(`sum by (namespace, action, reason, result) (increase(${select(c.remediations, sel)}[1m])) > 0`)
    .step('1m')
    .titleFormat('{{action}}: {{result}}')
    .textFormat('stuck reason {{reason}} in {{namespace}}')
    .tagKeys('namespace,action,result');
