// Reads the PromQL back out of a rendered dashboard, and turns Grafana's variables into
// plain PromQL, so tests can lint every expression and run it against a real Prometheus.
import { alertConfig } from '../alerts/config.ts';

export interface PanelQuery {
  readonly panel: string;
  readonly expr: string;
  /** Labels the legend shows ({{label}}); every series must carry them. */
  readonly legendLabels: readonly string[];
}

export interface VariableQuery {
  readonly variable: string;
  /** The series selector inside label_values(…). */
  readonly selector: string;
  /** The label whose values the variable offers. */
  readonly label: string;
}

interface RenderedPanel {
  type?: string;
  title?: string;
  description?: string;
  targets?: { expr?: string; legendFormat?: string }[];
  panels?: RenderedPanel[];
}

interface RenderedDashboard {
  annotations?: { list?: { name?: string; expr?: string }[] };
  panels?: RenderedPanel[];
  templating?: { list?: { name: string; type: string; query?: unknown }[] };
}

/** Every non-row panel, including those nested in collapsed rows. */
export function panelsOf(rendered: unknown): RenderedPanel[] {
  const walk = (panels: RenderedPanel[] = []): RenderedPanel[] =>
    panels.flatMap((p) => (p.type === 'row' ? walk(p.panels) : [p]));
  return walk((rendered as RenderedDashboard).panels);
}

export function panelQueries(rendered: unknown): PanelQuery[] {
  return panelsOf(rendered).flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      panel: p.title ?? '(untitled)',
      expr: t.expr ?? '',
      legendLabels: [...(t.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1] ?? ''),
    })),
  );
}

/** The PromQL annotation queries (Grafana's built-in annotations have no expression). */
export function annotationQueries(rendered: unknown): { name: string; expr: string }[] {
  return ((rendered as RenderedDashboard).annotations?.list ?? []).flatMap((a) =>
    a.expr === undefined ? [] : [{ name: a.name ?? '(unnamed)', expr: a.expr }],
  );
}

export function variableQueries(rendered: unknown): VariableQuery[] {
  const list = (rendered as RenderedDashboard).templating?.list ?? [];
  return list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const match = /^label_values\((.+),\s*([a-zA-Z_]\w*)\)$/.exec(String(v.query));
      if (!match?.[1] || !match[2])
        throw new Error(`variable ${v.name}: expected label_values(selector, label), got ${String(v.query)}`);
      return { variable: v.name, selector: match[1], label: match[2] };
    });
}

/**
 * Grafana's template variables replaced as an "All" selection would, with a fixed rate window:
 * namespace and instance by `.*`, the job variables by the jobs that export the path's metrics
 * (the bundle's, unless told otherwise).
 */
export function toPromQL(
  expr: string,
  rateInterval = '1m',
  jobs: { job: string; controller_job: string } = {
    job: alertConfig.serviceJob,
    controller_job: alertConfig.controllerJob,
  },
): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', rateInterval)
    .replace(/\$(namespace|instance)\b/g, '.*')
    .replace(/\$(controller_job|job)\b/g, (_m, name: 'job' | 'controller_job') => jobs[name]);
}

/** Metric names an expression selects: every name directly followed by a label matcher. */
export function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1] ?? '');
}
