// Every PromQL expression of the on-call dashboard, run against a real Prometheus that
// scrapes series shaped like the service's and the controller's. A misspelt metric, label or
// function makes its panel come back empty (or Prometheus reject it), and this test fail.
//
// The targets here are fakes serving the metric contract (service/test/support/fake-exposition.ts);
// alerts/controller-stuck.e2e.test.ts runs the same expressions against the real processes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertConfig } from '../alerts/config.ts';
import { rulesPath } from '../alerts/generate.ts';
import { controllerExposition, healthyGroup, healthyService, serviceExposition } from '#test-support/fake-exposition';
import { startFakeMetricsTarget, type FakeMetricsTarget } from '#test-support/fake-metrics-target';
import { startPrometheus, type RunningPrometheus } from '#test-support/prometheus';
import { annotationQueries, panelQueries, toPromQL, variableQueries } from './queries.ts';

const root = join(import.meta.dirname, '..');
const dashboard = JSON.parse(readFileSync(join(root, 'dashboards/generated/realtime-oncall.json'), 'utf8')) as unknown;
const namespace = 'realtime';
const pods = ['realtime-7c9d4-h2x8p', 'realtime-7c9d4-q5m1z'];

let prometheus: RunningPrometheus | undefined;
const targets: FakeMetricsTarget[] = [];

beforeAll(async () => {
  const since = Date.now();
  for (let i = 0; i < pods.length; i++)
    targets.push(await startFakeMetricsTarget(() => serviceExposition(healthyService(), since)));
  const controller = await startFakeMetricsTarget(() =>
    controllerExposition(
      {
        streamLength: 5012,
        maxLen: 5000,
        leader: 1,
        failedPerHour: 0,
        groups: pods.map((pod) => healthyGroup(`realtime-consumers:${pod}`)),
      },
      since,
    ),
  );
  targets.push(controller);
  // Another Node process in the same namespace: its runtime series share our metric names.
  const neighbour = await startFakeMetricsTarget(
    () => 'process_cpu_seconds_total 12\nprocess_resident_memory_bytes 1e8\nnodejs_eventloop_lag_seconds 0.01\n',
  );
  targets.push(neighbour);
  prometheus = await startPrometheus({
    targets: [
      ...pods.map((pod, i) => ({
        job: alertConfig.serviceJob,
        address: targets[i]?.address ?? '',
        labels: { namespace, pod },
      })),
      {
        job: alertConfig.controllerJob,
        address: controller.address,
        labels: { namespace, pod: 'realtime-controller-5f6b8-k3j7d' },
      },
      { job: 'matchmaking-api', address: neighbour.address, labels: { namespace, pod: 'matchmaking-api-0' } },
    ],
    ruleFiles: [readFileSync(join(root, rulesPath), 'utf8')],
  });
  await prometheus.waitForTargetsUp();
  // Rates need two scrapes of every target: wait for both kinds, or a loaded machine makes
  // the controller's panels look empty only because it was scraped once so far.
  await prometheus.waitForSeries('rate(sse_events_sent_total[1m])', pods.length);
  await prometheus.waitForSeries('rate(controller_observe_errors_total[1m])', 1);
});

afterAll(async () => {
  await prometheus?.stop();
  await Promise.all(targets.map((t) => t.stop()));
});

const running = () => {
  if (!prometheus) throw new Error('Prometheus did not start');
  return prometheus;
};

describe('the on-call dashboard against a real Prometheus', () => {
  it.each(panelQueries(dashboard).map((q) => [q.panel, q.expr, q.legendLabels] as const))(
    'panel "%s" returns data for %s',
    async (_panel, expr, legendLabels) => {
      const result = await running().query(toPromQL(expr));
      expect(result.length, `no series for ${toPromQL(expr)}`).toBeGreaterThan(0);
      for (const label of legendLabels) {
        expect(
          result.every((sample) => sample.metric[label] !== undefined),
          `legend {{${label}}} missing from ${expr}`,
        ).toBe(true);
      }
      const values = result.map((sample) => Number(sample.value[1]));
      expect(values.some(Number.isFinite), `only NaN/Inf for ${toPromQL(expr)}: ${values.join(', ')}`).toBe(true);
    },
  );

  it.each(variableQueries(dashboard).map((v) => [v.variable, v.selector, v.label] as const))(
    'variable $%s offers values from %s',
    async (_variable, selector, label) => {
      const result = await running().query(toPromQL(selector));
      const values = new Set(result.map((sample) => sample.metric[label]).filter((v) => v !== undefined));
      expect(values.size, `no ${label} values in ${selector}`).toBeGreaterThan(0);
    },
  );

  it('shows only the service instances on the runtime panels under "All", not a neighbouring Node target', async () => {
    const runtime = panelQueries(dashboard).filter((q) =>
      ['CPU per instance', 'Resident memory per instance', 'Node event-loop lag'].includes(q.panel),
    );
    expect(runtime.length).toBeGreaterThanOrEqual(3);
    const ours = new Set(targets.slice(0, pods.length).map((t) => t.address));
    for (const { panel, expr } of runtime) {
      const result = await running().query(toPromQL(expr));
      expect(result.length, panel).toBeGreaterThan(0);
      for (const sample of result)
        expect(ours.has(sample.metric.instance ?? ''), `${panel}: ${sample.metric.instance}`).toBe(true);
    }
  });

  it('runs the remediation annotation query', async () => {
    for (const { expr } of annotationQueries(dashboard))
      await expect(running().query(toPromQL(expr))).resolves.toEqual([]);
  });

  it('evaluates every generated alert rule without an error', async () => {
    const response = await fetch(`${running().url}/api/v1/rules`);
    const body = (await response.json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const rules = body.data.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(0);
    await expect
      .poll(
        async () => {
          const again = (await (await fetch(`${running().url}/api/v1/rules`)).json()) as typeof body;
          return again.data.groups
            .flatMap((g) => g.rules)
            .filter((r) => r.health !== 'ok')
            .map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`);
        },
        { timeout: 10_000, interval: 500 },
      )
      .toEqual([]);
  });

  it('keeps every alert quiet while the fake service and controller are healthy', async () => {
    expect((await running().alerts()).map((a) => a.labels.alertname)).toEqual([]);
  });
});
