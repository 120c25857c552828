// The real service process (service/src/main.ts) on a throwaway Redis, scraped by a real
// Prometheus with the generated rules (only `for:` shortened). Slow SSE clients that stop
// reading, under a flood of large events, must make SSEDroppedEventsHigh fire; before the
// flood it must not. Every dashboard expression over service metrics must return data from
// the real process, so a metric renamed in the service fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../service/src/auth/tokens.ts';
import { startThrowawayRedis, type ThrowawayRedis } from '#test-support/throwaway-redis';
import { controllerMetrics, serviceMetrics, thresholds } from '#contract';
import { startPrometheus, withShortFor, type RunningPrometheus } from '#test-support/prometheus';
import { openRawSseClient, type RawSseClient } from '#test-support/raw-sse-client';
import { startServiceProcess, type ServiceProcess } from '#test-support/entry-processes';
import { panelQueries, toPromQL } from '../dashboards/queries.ts';
import { alertConfig } from './config.ts';
import { rulesPath } from './generate.ts';

const root = join(import.meta.dirname, '..');
const secret = 'e2e-only-hs256-secret-not-used-anywhere-else';
const namespace = 'e2e-flood';
const slowClients = 8;
const queueLimit = 5;

let redis: ThrowawayRedis | undefined;
let service: ServiceProcess | undefined;
let prometheus: RunningPrometheus | undefined;
const clients: RawSseClient[] = [];

beforeAll(async () => {
  redis = await startThrowawayRedis();
  service = await startServiceProcess({
    REDIS_URL: redis.url,
    AUTH_JWT_SECRET: secret,
    POD_NAME: 'realtime-e2e-flood',
    REALTIME_STREAM_KEY: 'e2e:flood:events',
    SSE_CLIENT_QUEUE_LIMIT: String(queueLimit),
    SSE_MAX_CONNECT_PER_MINUTE: '1000',
  });
  prometheus = await startPrometheus({
    targets: [
      {
        job: alertConfig.serviceJob,
        address: service.metricsAddress,
        labels: { namespace, pod: 'realtime-e2e-flood' },
      },
    ],
    ruleFiles: [withShortFor(readFileSync(join(root, rulesPath), 'utf8'), '3s')],
  });
  await prometheus.waitForTargetsUp();
});

afterAll(async () => {
  for (const client of clients) client.close();
  await prometheus?.stop();
  await service?.stop();
  await redis?.stop();
});

const running = () => {
  if (!prometheus || !service) throw new Error('setup failed');
  return { prometheus, service };
};

async function publish(count: number, payloadBytes: number, concurrency = 4): Promise<void> {
  const { service } = running();
  const token = await signToken(secret, { sub: 'e2e-producer', role: 'producer' });
  const blob = 'x'.repeat(payloadBytes);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const response = await fetch(`${service.url}/api/realtime/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ matchId: 'm-flood', action: 'match:updated', data: { blob } }),
      });
      if (response.status !== 202) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

describe('SSEDroppedEventsHigh against the real service', () => {
  it('stays silent while every client keeps up', async () => {
    const { service, prometheus } = running();
    const token = await signToken(secret, { sub: 'e2e-reader', role: 'admin' });
    clients.push(await openRawSseClient(service.url, `/api/realtime/stream?access_token=${token}`, { paused: false }));
    await publish(50, 200);
    await prometheus.waitForSeries(`rate(${serviceMetrics.eventsSent}[1m]) > 0`, 1);
    // Several evaluation cycles with the rule loaded and nothing to fire on.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect((await prometheus.alerts()).filter((a) => a.labels.alertname === 'SSEDroppedEventsHigh')).toEqual([]);
  });

  it('fires when slow clients stop reading during a flood', async () => {
    const { service, prometheus } = running();
    for (let i = 0; i < slowClients; i++) {
      const token = await signToken(secret, { sub: `e2e-slow-${i}`, role: 'admin' });
      clients.push(await openRawSseClient(service.url, `/api/realtime/stream?access_token=${token}`, { paused: true }));
    }
    // Large events fill the paused sockets' kernel buffers quickly; after that every event
    // overflows each slow client's queue of SSE_CLIENT_QUEUE_LIMIT.
    await publish(600, 30_000);
    const alert = await prometheus.waitForAlert(
      'SSEDroppedEventsHigh',
      { namespace, severity: 'critical' },
      'firing',
      90_000,
    );
    expect(Number(alert.value)).toBeGreaterThan(thresholds.droppedEventsPerMinute);
    const dropped = await prometheus.query(`sum by (reason) (${serviceMetrics.eventsDropped})`);
    expect(dropped.find((s) => s.metric.reason === 'queue_full')?.value[1]).not.toBe('0');
  });

  it('gives data for every dashboard expression over service metrics', async () => {
    const { prometheus } = running();
    const dashboard = JSON.parse(
      readFileSync(join(root, 'dashboards/generated/realtime-oncall.json'), 'utf8'),
    ) as unknown;
    const controllerNames = Object.values(controllerMetrics) as string[];
    const serviceSide = panelQueries(dashboard).filter((q) => !controllerNames.some((name) => q.expr.includes(name)));
    expect(serviceSide.length).toBeGreaterThan(10);
    const empty: string[] = [];
    for (const { panel, expr } of serviceSide) {
      const result = await prometheus.query(toPromQL(expr));
      if (result.length === 0) empty.push(`${panel}: ${expr}`);
    }
    expect(empty).toEqual([]);
  });
});
