// The generated alert rules loaded into a real Prometheus (Debian /usr/bin/prometheus) that
// scrapes fake targets serving the metric contract, in three namespaces: "calm", healthy;
// "incident", where clients are flooded past their queues and one consumer group is stuck;
// and "orphan", a service without its controller. The alerts must fire for the incident and
// the orphan, and only for them. Rules keep their expressions, labels and annotations; only
// `for:` is shortened so the test takes seconds instead of minutes. The same alerts driven
// by the real processes: service-flood.e2e.test.ts and controller-stuck.e2e.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thresholds } from '#contract';
import {
  controllerExposition,
  healthyGroup,
  healthyService,
  serviceExposition,
  type ControllerScenario,
  type ServiceScenario,
} from '#test-support/fake-exposition';
import { startFakeMetricsTarget, type FakeMetricsTarget } from '#test-support/fake-metrics-target';
import { startPrometheus, withShortFor, type RunningPrometheus } from '#test-support/prometheus';
import { alertConfig } from './config.ts';
import { rulesPath } from './generate.ts';

const root = join(import.meta.dirname, '..');
const stuckGroup = 'realtime-consumers:realtime-6b7f9-stuck';

// Ten times the paging rate, so a 5-minute rate() window crosses the line within seconds.
const flooded = (): ServiceScenario => ({
  ...healthyService(),
  droppedPerMinute: { queue_full: 10 * thresholds.droppedEventsPerMinute, slow_client_disconnected: 50 },
});

const controllerWith = (groups: ControllerScenario['groups']): ControllerScenario => ({
  streamLength: 800,
  maxLen: 5000,
  leader: 1,
  failedPerHour: 0,
  groups,
});

let prometheus: RunningPrometheus | undefined;
const targets: FakeMetricsTarget[] = [];

beforeAll(async () => {
  const since = Date.now();
  const start = async (render: () => string) => {
    const target = await startFakeMetricsTarget(render);
    targets.push(target);
    return target.address;
  };
  const calmService = await start(() => serviceExposition(healthyService(), since));
  const calmController = await start(() =>
    controllerExposition(controllerWith([healthyGroup('realtime-consumers:realtime-calm-1')]), since),
  );
  const incidentService = await start(() => serviceExposition(flooded(), since));
  const orphanService = await start(() => serviceExposition(healthyService(), since));
  const incidentController = await start(() =>
    controllerExposition(
      controllerWith([
        healthyGroup('realtime-consumers:realtime-6b7f9-fine'),
        {
          group: stuckGroup,
          pending: thresholds.pendingEntries + 300,
          oldestPendingAgeSeconds: 4 * thresholds.oldestPendingAgeSeconds,
          lag: 40,
          consumerIdleSeconds: 90,
        },
      ]),
      since,
    ),
  );
  prometheus = await startPrometheus({
    targets: [
      { job: alertConfig.serviceJob, address: calmService, labels: { namespace: 'calm' } },
      { job: alertConfig.controllerJob, address: calmController, labels: { namespace: 'calm' } },
      { job: alertConfig.serviceJob, address: incidentService, labels: { namespace: 'incident' } },
      { job: alertConfig.controllerJob, address: incidentController, labels: { namespace: 'incident' } },
      // A namespace whose service runs without its controller, while the others have theirs.
      { job: alertConfig.serviceJob, address: orphanService, labels: { namespace: 'orphan' } },
    ],
    ruleFiles: [withShortFor(readFileSync(join(root, rulesPath), 'utf8'), '3s')],
  });
  await prometheus.waitForTargetsUp();
});

afterAll(async () => {
  await prometheus?.stop();
  await Promise.all(targets.map((t) => t.stop()));
});

const running = () => {
  if (!prometheus) throw new Error('Prometheus did not start');
  return prometheus;
};

describe('the generated alert rules in a real Prometheus, against fake service and controller targets', () => {
  it('page SSEDroppedEventsHigh when flooded clients overflow their queues', async () => {
    const alert = await running().waitForAlert('SSEDroppedEventsHigh', { namespace: 'incident', severity: 'critical' });
    expect(Number(alert.value)).toBeGreaterThan(thresholds.droppedEventsPerMinute);
  });

  it('page StreamConsumerStuck for the stuck group, on both pending count and pending age', async () => {
    await running().waitForAlert('StreamConsumerStuck', {
      namespace: 'incident',
      group: stuckGroup,
      cause: 'pending_entries',
    });
    await running().waitForAlert('StreamConsumerStuck', {
      namespace: 'incident',
      group: stuckGroup,
      cause: 'oldest_pending_age',
    });
  });

  it('page RealtimeControllerDown for the namespace without a controller, though other namespaces run theirs', async () => {
    await running().waitForAlert('RealtimeControllerDown', { namespace: 'orphan', severity: 'critical' });
    const down = (await running().alerts()).filter((a) => a.labels.alertname === 'RealtimeControllerDown');
    expect(down.map((a) => a.labels.namespace)).toEqual(['orphan']);
  });

  it('stay silent for the healthy namespace and the healthy group', async () => {
    await running().waitForAlert('StreamConsumerStuck', { namespace: 'incident', group: stuckGroup });
    const others = (await running().alerts()).filter(
      (a) =>
        a.labels.namespace !== 'orphan' &&
        (a.labels.namespace !== 'incident' || (a.labels.group !== undefined && a.labels.group !== stuckGroup)),
    );
    expect(others.map((a) => a.labels)).toEqual([]);
    const names = new Set(
      (await running().alerts()).filter((a) => a.labels.namespace !== 'orphan').map((a) => a.labels.alertname),
    );
    expect([...names].sort()).toEqual(['SSEDroppedEventsHigh', 'StreamConsumerPendingHigh', 'StreamConsumerStuck']);
  });
});
