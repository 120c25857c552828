// The cluster path of the drop accounting, for real: a real Prometheus scrapes two replicas
// of the service (labelled as Kubernetes service discovery labels them: job, pod), the Node
// runner runs the scenario through a round-robin proxy in front of them, and the verdict
// reads every replica's drops from the Prometheus HTTP API (PROMETHEUS_URL), not from the
// pods.
import { afterEach, describe, expect, it } from 'vitest';
import { startPrometheus } from '#test-support/prometheus';
import { planFrom } from './plan.js';
import { passed, summaryText } from './summary.js';
import { runScenario } from './run.ts';
import { TWO_REPLICA_KNOBS, runEnvironment, running, stopAll, twoReplicasBehindProxy } from './service-under-test.ts';

afterEach(stopAll);

describe('the load test judged from Prometheus (PROMETHEUS_URL)', () => {
  it('counts the drops of both replicas from their series, each under its pod', async () => {
    const { replicas, proxy } = await twoReplicasBehindProxy();
    const pods = ['loadtest-a', 'loadtest-b'];
    const prometheus = await startPrometheus({
      targets: replicas.map((replica, index) => ({
        job: 'trayb-realtime',
        address: replica.metricsAddress,
        labels: { namespace: 'trayb-realtime', pod: pods[index] ?? '' },
      })),
      scrapeInterval: '1s',
    });
    running.push(prometheus);
    await prometheus.waitForTargetsUp();
    const plan = planFrom({
      ...(await runEnvironment(proxy.url, [], TWO_REPLICA_KNOBS)),
      PROMETHEUS_URL: prometheus.url,
      PROMETHEUS_SELECTOR: 'job="trayb-realtime",namespace="trayb-realtime"',
    });
    expect(plan.prometheusUrl).toBe(prometheus.url);

    const result = await runScenario(plan);
    const { summary } = result;
    expect(passed(summary), summaryText(summary)).toBe(true);
    const perPod = pods.map((pod) => result.droppedByInstance[pod] ?? 0);
    console.log(
      `two replicas via Prometheus: dropped ${perPod.join(' + ')} = ${summary.numbers?.droppedQueueFull}, missed ${summary.numbers?.slowMissed}`,
    );
    for (const drops of perPod) expect(drops).toBeGreaterThan(0);
    expect(Object.keys(result.droppedByInstance).sort()).toEqual(pods);
    expect(summary.numbers?.slowMissed).toBe(summary.numbers?.droppedQueueFull);
  }, 180_000);
});
