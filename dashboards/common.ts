// Shared building blocks of the on-call dashboard: the datasource and variable selectors,
// Prometheus query builders, and the two panel styles (time series with an optional
// threshold line, and stat). Every panel is built from these so they look and filter alike.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { runbookUrl } from '../alerts/rules.ts';

/** Every query goes to the datasource the viewer picked in the `datasource` variable. */
export const datasource: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

// Every selector names its job: the process, CPU and memory series are exported by every Node
// or Go target in a Prometheus, so a namespace and instance filter alone ("All") would match them all.
/** Series of the service instances the viewer selected. */
export const instanceSelector = 'job=~"$job", namespace=~"$namespace", instance=~"$instance"';
/** Service series summed over a whole namespace, whatever instances are selected. */
export const serviceNamespaceSelector = 'job=~"$job", namespace=~"$namespace"';
/** Stream-wide series exported by the controller: filtered by namespace only. */
export const namespaceSelector = 'job=~"$controller_job", namespace=~"$namespace"';

/** `metric{selector}`: the one way panels select series, so filters are never forgotten. */
export const select = (metric: string, selector: string, extra = ''): string =>
  `${metric}{${selector}${extra === '' ? '' : `, ${extra}`}}`;

export const query = (expr: string, legend: string): prometheus.DataqueryBuilder =>
  new prometheus.DataqueryBuilder().datasource(datasource).expr(expr).legendFormat(legend);

/**
 * A multi-value variable with "All". Without `allValue`, Grafana's "All" stands for exactly the
 * values the query found, which is how the job variables keep other targets out.
 */
export const queryVariable = (
  name: string,
  label: string,
  expr: string,
  allValue?: string,
): dashboard.QueryVariableBuilder => {
  const variable = new dashboard.QueryVariableBuilder(name)
    .label(label)
    .query(expr)
    .datasource(datasource)
    .current({ selected: true, text: 'All', value: '$__all' })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true);
  return allValue === undefined ? variable : variable.allValue(allValue);
};

/** The link from a panel to the runbook of the alert that fires on what it shows. */
export const runbookLinks = (runbook: string): dashboard.DashboardLinkBuilder[] => [
  new dashboard.DashboardLinkBuilder(`Runbook: ${runbook}`)
    .type(dashboard.DashboardLinkType.Link)
    .url(runbookUrl(runbook))
    .targetBlank(true),
];

export interface Limits {
  /** Drawn orange: worth a look. */
  readonly warning?: number;
  /** Drawn red: the alert's threshold. */
  readonly critical?: number;
  /** For "lower is worse" figures: red below this level, green from it up. */
  readonly floor?: number;
}

const levelsOf = (limits: Limits): dashboard.Threshold[] =>
  limits.floor !== undefined
    ? [{ value: limits.floor, color: 'green' }]
    : [
        ...(limits.warning === undefined ? [] : [{ value: limits.warning, color: 'orange' }]),
        ...(limits.critical === undefined ? [] : [{ value: limits.critical, color: 'red' }]),
      ];

/** Threshold steps: a base colour (green, or red under a floor), then each level's colour. */
const steps = (limits: Limits): dashboard.ThresholdsConfigBuilder =>
  new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: limits.floor === undefined ? 'green' : 'red' }, ...levelsOf(limits)]);

export const timeseries = (
  title: string,
  description: string,
  unit: string,
  limits: Limits = {},
): TimeseriesBuilder => {
  const levels = levelsOf(limits);
  return new TimeseriesBuilder()
    .title(title)
    .description(description)
    .datasource(datasource)
    .unit(unit)
    .min(0)
    .height(8)
    .span(8)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .drawStyle(common.GraphDrawStyle.Line)
    .spanNulls(false)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .placement(common.LegendPlacement.Bottom)
        .displayMode(common.LegendDisplayMode.List),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending),
    )
    .thresholds(steps(limits))
    .thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(
        levels.length === 0 ? common.GraphThresholdsStyleMode.Off : common.GraphThresholdsStyleMode.Dashed,
      ),
    );
};

export const stat = (title: string, description: string, unit: string, limits: Limits = {}): StatBuilder =>
  new StatBuilder()
    .title(title)
    .description(description)
    .datasource(datasource)
    .unit(unit)
    .height(4)
    .span(4)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.Area)
    .thresholds(steps(limits));
