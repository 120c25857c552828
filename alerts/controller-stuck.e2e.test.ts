// A stuck consumer group seen through the real processes: two service instances and the
// controller (observe-only: no cluster credentials) on a throwaway Redis, all scraped by a
// real Prometheus with the generated rules (only `for:` shortened). One instance freezes
// with a batch read but never acknowledged; StreamConsumerStuck must fire for its group and
// only for it. Then every dashboard expression must return data from these processes.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../service/src/auth/tokens.ts';
import { createRedis, type RedisClient } from '../service/src/redis/index.ts';
import { startThrowawayRedis, type ThrowawayRedis } from '#test-support/throwaway-redis';
import { controllerMetrics, thresholds } from '#contract';
import { startControllerProcess, startServiceProcess, type ServiceProcess } from '#test-support/entry-processes';
import { startPrometheus, withShortFor, type RunningPrometheus } from '#test-support/prometheus';
import { panelQueries, toPromQL, variableQueries } from '../dashboards/queries.ts';
import { alertConfig } from './config.ts';
import { rulesPath } from './generate.ts';

const root = join(import.meta.dirname, '..');
const secret = 'e2e-only-hs256-secret-not-used-anywhere-else';
const namespace = 'e2e-stuck';
const streamKey = 'e2e:stuck:events';
const stuckPod = 'realtime-e2e-stuck';
const finePod = 'realtime-e2e-fine';
const groupOf = (pod: string) => `realtime-consumers:${pod}`;

let redis: ThrowawayRedis | undefined;
let home: string | undefined;
let thief: RedisClient | undefined;
let prometheus: RunningPrometheus | undefined;
const processes: Record<string, ServiceProcess> = {};

describe('StreamConsumerStuck from the real service and controller processes', () => {
  beforeAll(async () => {
    redis = await startThrowawayRedis();
    home = await mkdtemp(join(tmpdir(), 'trayb-no-kube-'));
    const common = { REDIS_URL: redis.url, REALTIME_STREAM_KEY: streamKey };
    for (const pod of [stuckPod, finePod]) {
      processes[pod] = await startServiceProcess({
        ...common,
        AUTH_JWT_SECRET: secret,
        POD_NAME: pod,
        REALTIME_STREAM_READ_BLOCK_MS: '1000',
      });
    }
    processes.controller = await startControllerProcess(
      {
        ...common,
        POD_NAME: 'controller-e2e',
        POD_NAMESPACE: namespace,
        CONTROLLER_POLL_INTERVAL_MS: '500',
        CONTROLLER_SUSTAIN_SECONDS: '1',
      },
      home,
    );
    prometheus = await startPrometheus({
      targets: [
        ...[stuckPod, finePod].map((pod) => ({
          job: alertConfig.serviceJob,
          address: processes[pod]?.metricsAddress ?? '',
          labels: { namespace, pod },
        })),
        {
          job: alertConfig.controllerJob,
          address: processes.controller.metricsAddress,
          labels: { namespace, pod: 'controller-e2e' },
        },
      ],
      ruleFiles: [withShortFor(readFileSync(join(root, rulesPath), 'utf8'), '3s')],
    });
    await prometheus.waitForTargetsUp();
    thief = createRedis({ mode: 'standalone', url: redis.url }, { name: 'e2e-stuck-reader', offlineQueue: true });
  });

  afterAll(async () => {
    thief?.disconnect();
    await prometheus?.stop();
    await Promise.all(Object.values(processes).map((p) => p.stop()));
    await redis?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  const running = () => {
    const service = processes[finePod];
    const stuck = processes[stuckPod];
    if (!prometheus || !service || !stuck || !thief) throw new Error('setup failed');
    return { prometheus, service, stuck, thief };
  };

  async function publish(count: number): Promise<void> {
    const { service } = running();
    const token = await signToken(secret, { sub: 'e2e-producer', role: 'producer' });
    for (let i = 0; i < count; i++) {
      const response = await fetch(`${service.url}/api/realtime/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ matchId: `m-${i % 7}`, action: 'match:updated', data: { seq: i } }),
      });
      if (response.status !== 202) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
    }
  }

  it('sees both groups healthy while both instances read', async () => {
    const { prometheus } = running();
    await publish(20);
    const groups = await prometheus.waitForSeries(controllerMetrics.groupPending, 2);
    expect(groups.map((s) => s.metric.group).sort()).toEqual([groupOf(finePod), groupOf(stuckPod)].sort());
    expect((await prometheus.alerts()).filter((a) => a.labels.alertname === 'StreamConsumerStuck')).toEqual([]);
  });

  it('fires for the group whose instance read a batch and froze without acknowledging', async () => {
    const { prometheus, stuck, thief } = running();
    stuck.signal('SIGSTOP');
    const backlog = thresholds.pendingEntries + 150;
    await publish(backlog);
    // What the frozen instance would have been handed had it read once more before hanging.
    await thief.call('XREADGROUP', 'GROUP', groupOf(stuckPod), stuckPod, 'COUNT', backlog, 'STREAMS', streamKey, '>');
    const alert = await prometheus.waitForAlert('StreamConsumerStuck', {
      namespace,
      group: groupOf(stuckPod),
      cause: 'pending_entries',
    });
    expect(Number(alert.value)).toBeGreaterThan(thresholds.pendingEntries);
    expect((await prometheus.alerts()).filter((a) => a.labels.group === groupOf(finePod))).toEqual([]);
  });

  it('gives data for every dashboard expression and variable', async () => {
    const { prometheus } = running();
    const dashboard = JSON.parse(
      readFileSync(join(root, 'dashboards/generated/realtime-oncall.json'), 'utf8'),
    ) as unknown;
    const empty: string[] = [];
    for (const { panel, expr } of panelQueries(dashboard)) {
      if ((await prometheus.query(toPromQL(expr))).length === 0) empty.push(`${panel}: ${expr}`);
    }
    for (const { variable, selector } of variableQueries(dashboard)) {
      if ((await prometheus.query(toPromQL(selector))).length === 0) empty.push(`$${variable}: ${selector}`);
    }
    expect(empty).toEqual([]);
  });
});
