// Refusals a standard EventSource lives through. A browser's EventSource gives up for good
// on any answer but a 200 event stream, so every refusal that passes with time (a limit, a
// full instance, a shutdown) reaches an event-stream client as a 200 that says when to come
// back; the client below is the specification's own EventSource (Node's), which must keep
// reconnecting by itself and get its events once let in. JSON clients keep 429/503 JSON,
// and final refusals (bad token, forbidden room) keep their status.
import { afterEach, describe, expect, it } from 'vitest';
import { perTest } from '#test-support/per-test';
import { NodeEventSource } from '#test-support/node-event-source';
import { SseTestClient } from '#test-support/sse-client';
import { publish, testStream, token } from '#test-support/instance';

const { instance, open } = perTest();
const sources: NodeEventSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.close()));
});

function eventSource(url: string, bearer: string): NodeEventSource {
  const source = new NodeEventSource(`${url}/api/realtime/stream?access_token=${encodeURIComponent(bearer)}`, [
    'match:updated',
  ]);
  sources.push(source);
  return source;
}

describe('a throttled EventSource', () => {
  it('held back by the per-identity cap keeps retrying on its own, and gets events once a stream of its identity closes', async () => {
    const service = await instance(testStream(), { SSE_MAX_CONNECTIONS_PER_IDENTITY: '1', SSE_RETRY_MS: '200' });
    const alice = await token('user', ['m-1'], { sub: 'cap-alice' });
    const first = await open(service.url, { token: alice });

    const second = eventSource(service.url, alice);
    // Each refusal is an error with readyState CONNECTING (it will retry), never CLOSED.
    await second.waitFor((source) => source.count('error') >= 3, 'three refused attempts');
    expect(second.records.filter((record) => record.type === 'error').every((r) => r.readyState === 0)).toBe(true);
    expect(second.events).toEqual([]);

    first.close();
    await second.waitFor((source) => source.records.at(-1)?.type === 'open', 'the retried stream open');
    const producer = await token('producer');
    const response = await publish(service.url, producer, { matchId: 'm-1', action: 'match:updated' });
    const { id } = (await response.json()) as { id: string };
    await second.waitFor((source) => source.events.some((event) => event.id === id), 'the event');
  });

  it('refused for the per-minute attempt limit gets a 200 that says to come back after the window, and JSON clients a 429', async () => {
    const service = await instance(testStream(), { SSE_MAX_CONNECT_PER_MINUTE: '2' });
    const bob = await token('user', ['m-1'], { sub: 'minute-bob' });
    for (let i = 0; i < 2; i++) (await open(service.url, { token: bob })).close();

    const refused = await open(service.url, { token: bob });
    expect(refused.status).toBe(200);
    expect(refused.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    // What is left of the one-minute window, spread by up to half as much again.
    expect(refused.retry).toBeGreaterThan(30_000);
    expect(refused.retry).toBeLessThanOrEqual(90_000);
    const said = JSON.parse((await refused.waitForEvent('refused')).data) as Record<string, unknown>;
    expect(said).toMatchObject({ action: 'refused', status: 429, retryMs: refused.retry });
    await expect.poll(() => refused.ended).toBe(true);
    expect(refused.streamEvents).toEqual([]);
    const counted = (await service.app.realtime.metrics.connectionsRefused.get()).values;
    expect(counted.find((sample) => sample.labels.reason === 'attempt_rate')?.value).toBe(1);

    const json = await fetch(`${service.url}/api/realtime/stream`, {
      headers: { authorization: `Bearer ${bob}`, accept: 'application/json' },
    });
    expect(json.status).toBe(429);
    expect(Number(json.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Object.keys((await json.json()) as object).sort()).toEqual(['error', 'message']);
  });

  it('turned away by a full instance is told to retry, not refused for good', async () => {
    const service = await instance(testStream(), { SSE_MAX_CONNECTIONS: '1', SSE_RETRY_MS: '300' });
    await open(service.url, { token: await token('admin', [], { sub: 'full-first' }) });
    const late = await open(service.url, { token: await token('admin', [], { sub: 'full-second' }) });
    expect(late.status).toBe(200);
    expect(JSON.parse((await late.waitForEvent('refused')).data)).toMatchObject({ status: 503 });
    expect(late.retry).toBeGreaterThanOrEqual(300);
    expect(late.retry).toBeLessThanOrEqual(450);
    const json = await fetch(`${service.url}/api/realtime/stream`, {
      headers: { authorization: `Bearer ${await token('admin')}` },
    });
    expect(json.status).toBe(503);
  });

  it('keeps final refusals final: a forged token is a 401 and a forbidden room a 403, even to an event-stream client', async () => {
    const service = await instance();
    const forged = await SseTestClient.open(service.url, { token: 'not.a.token' });
    expect(forged.status).toBe(401);
    const stranger = await token('user', ['m-1'], { sub: 'stranger' });
    const forbidden = await SseTestClient.open(service.url, { token: stranger, query: { matchId: 'm-2' } });
    expect(forbidden.status).toBe(403);
  });
});
