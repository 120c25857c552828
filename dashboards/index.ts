// Owns the Grafana on-call dashboard of the realtime path. It is composed here from one
// module per row (overview, clients, stream, runtime, controller) built on common.ts, and
// rendered to dashboards/generated/realtime-oncall.json by generate.ts.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { controllerMetrics, serviceMetrics } from '#contract';
import * as clients from './clients.ts';
import { queryVariable } from './common.ts';
import * as controller from './controller.ts';
import * as overview from './overview.ts';
import * as runtime from './runtime.ts';
import * as stream from './stream.ts';

export const dashboardUid = 'trayb-realtime-oncall';

export function realtimeOncallDashboard(): dashboard.Dashboard {
  return (
    new dashboard.DashboardBuilder('Realtime delivery / on-call')
      .uid(dashboardUid)
      .description(
        'SSE fan-out, the Redis Stream consumer groups and the remediation controller, one screen for the on-call.',
      )
      .tags(['trayb-realtime', 'generated'])
      .editable()
      .tooltip(dashboard.DashboardCursorSync.Crosshair)
      .refresh('30s')
      .time({ from: 'now-3h', to: 'now' })
      .timezone('browser')
      .withVariable(new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
      // "All" of a job variable is the jobs exporting the path's own metrics, never `.*`.
      .withVariable(queryVariable('job', 'Service job', `label_values(${serviceMetrics.connections}, job)`))
      .withVariable(queryVariable('controller_job', 'Controller job', `label_values(${controllerMetrics.leader}, job)`))
      .withVariable(
        queryVariable(
          'namespace',
          'Namespace',
          `label_values(${serviceMetrics.connections}{job=~"$job"}, namespace)`,
          '.*',
        ),
      )
      .withVariable(
        queryVariable(
          'instance',
          'Instance',
          `label_values(${serviceMetrics.connections}{job=~"$job", namespace=~"$namespace"}, instance)`,
          '.*',
        ),
      )
      .annotation(controller.remediationAnnotations())
      .withRow(new dashboard.RowBuilder('At a glance'))
      .withPanel(overview.connectedClients())
      .withPanel(overview.droppedPerMinute())
      .withPanel(overview.worstPending())
      .withPanel(overview.worstPendingAge())
      .withPanel(overview.worstLag())
      .withPanel(overview.leaders())
      .withRow(new dashboard.RowBuilder('SSE clients'))
      .withPanel(clients.connections())
      .withPanel(clients.churn())
      .withPanel(clients.eventsSent())
      .withPanel(clients.droppedPerMinute().span(12))
      .withPanel(clients.deliveryLatency().span(12))
      .withRow(new dashboard.RowBuilder('Stream and consumer groups'))
      .withPanel(stream.pendingPerGroup())
      .withPanel(stream.oldestPendingAge())
      .withPanel(stream.lagPerGroup())
      .withPanel(stream.consumerIdle())
      .withPanel(stream.streamLength())
      .withPanel(stream.replayWindow())
      .withRow(new dashboard.RowBuilder('Instance internals'))
      .withPanel(runtime.eventLoopLag())
      .withPanel(runtime.processResources())
      .withPanel(runtime.memory())
      .withPanel(runtime.busReads().span(12))
      .withPanel(runtime.sinceLastRead().span(12))
      .withRow(new dashboard.RowBuilder('Controller'))
      .withPanel(controller.remediations().span(12))
      .withPanel(controller.skippedRemediations().span(12))
      .withPanel(controller.leader().span(12))
      .withPanel(controller.controllerErrors().span(12))
      .build()
  );
}
