// Overload: a connection flood far past the instance's cap. The instance must stay up,
// hold no more streams than its cap, tell every stream it turns away to retry (a 200 with
// a retry hint, so an EventSource comes back, preferably to another pod), and keep
// delivering to the clients it already holds on time.
import { describe, expect, it } from 'vitest';
import { perTest } from '#test-support/per-test';
import type { SseTestClient } from '#test-support/sse-client';
import { publish, testStream, token } from '#test-support/instance';

const { instance, open } = perTest();
const CAP = 40;
const RESIDENTS = 20;
const FLOOD = 1000;
const WAVE = 100;
const EVENTS = 40;

describe('a connection flood past the cap', () => {
  it(`${FLOOD} attempts at an instance capped at ${CAP}: it stays up, turns the rest away retryably, and its clients keep receiving`, async () => {
    const service = await instance(testStream(), {
      SSE_MAX_CONNECTIONS: String(CAP),
      SSE_MAX_CONNECT_PER_MINUTE: '1000000',
      SSE_RETRY_MS: '1000',
    });
    const residents: SseTestClient[] = [];
    for (let i = 0; i < RESIDENTS; i++)
      residents.push(await open(service.url, { token: await token('admin', [], { sub: `resident-${i}` }) }));

    // Events published all through the flood, stamped when sent.
    const producer = await token('producer');
    const publishing = (async () => {
      for (let n = 0; n < EVENTS; n++) {
        await publish(service.url, producer, { matchId: 'm-flood', action: 'match:updated', data: { n } });
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();

    const floodTokens = await Promise.all(
      Array.from({ length: 100 }, (_, i) => token('user', ['m-flood'], { sub: `flood-${i}` })),
    );
    const attempts: SseTestClient[] = [];
    for (let wave = 0; wave < FLOOD / WAVE; wave++) {
      const opened = await Promise.all(
        Array.from({ length: WAVE }, (_, i) =>
          open(service.url, { token: floodTokens[(wave * WAVE + i) % floodTokens.length] }),
        ),
      );
      attempts.push(...opened);
    }
    await publishing;

    const refused = attempts.filter((attempt) =>
      attempt.events.some((event) => event.event === 'refused' && event.data.includes('"status":503')),
    );
    const admitted = attempts.filter((attempt) => !refused.includes(attempt));
    expect(admitted.length).toBe(CAP - RESIDENTS);
    expect(refused.length).toBe(FLOOD - (CAP - RESIDENTS));
    for (const attempt of refused) {
      expect(attempt.status).toBe(200);
      expect(attempt.retry).toBeGreaterThanOrEqual(1000);
    }
    expect(service.app.realtime.fanout.size).toBe(CAP);
    // Counted for the on-call, by reason.
    const counted = (await service.app.realtime.metrics.connectionsRefused.get()).values;
    expect(counted.find((sample) => sample.labels.reason === 'instance_full')?.value).toBe(refused.length);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);

    for (const resident of residents) await resident.waitForEvents(EVENTS, 30_000);
    const delays = residents.flatMap((resident) =>
      resident.streamEvents.map((event) => {
        const { timestamp } = JSON.parse(event.data) as { timestamp: string };
        return event.receivedAt - Date.parse(timestamp);
      }),
    );
    // On time: well within a heartbeat interval, on a machine shared with other suites.
    expect(Math.max(...delays)).toBeLessThan(5000);
  }, 120_000);
});
