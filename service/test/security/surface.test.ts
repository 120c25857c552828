// What the public port exposes, against the real process: the metrics stay on their own
// port whatever path tricks reach the public one; connection attempts are limited per
// identity (not per address, so users behind one NAT do not starve each other); the JSON
// routes carry the browser security headers.
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { request } from 'node:http';
import { testStream, token } from '#test-support/instance';
import { SseTestClient } from '#test-support/sse-client';
import { spawnService, type ServiceProcess } from '#test-support/entry-processes';

const CONNECTS_PER_MINUTE = 5;
let service: ServiceProcess;
beforeAll(async () => {
  service = await spawnService({
    redisUrl: inject('redisUrl'),
    streamKey: testStream().key,
    pod: 'surface',
    env: { SSE_MAX_CONNECT_PER_MINUTE: String(CONNECTS_PER_MINUTE) },
  });
}, 90_000);
afterAll(async () => service.stop());

/** A GET with the path sent exactly as written (no URL normalisation) and an optional Host. */
function rawGet(url: string, path: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path,
        method: 'GET',
        agent: false,
        headers: host === undefined ? {} : { host },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the metrics port', () => {
  it('serves Prometheus text on its own port and nowhere on the public one, whatever the path trick', async () => {
    const metrics = await fetch(service.metricsUrl);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('sse_connections');

    const metricsHost = new URL(service.metricsUrl).host;
    const paths = [
      '/metrics',
      '/metrics/',
      '//metrics',
      '/./metrics',
      '/api/../metrics',
      '/%6detrics',
      '/METRICS',
      '/metrics?format=prometheus',
      '/metrics%00',
      '/api/realtime/../../metrics',
      '/api/metrics',
    ];
    for (const path of paths) {
      for (const host of [undefined, metricsHost]) {
        const answer = await rawGet(service.url, path, host);
        expect(answer.status, `${path} (Host ${host ?? 'default'})`).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect(answer.body).not.toContain('# HELP');
        expect(answer.body).not.toContain('sse_connections');
      }
    }
    // And the metrics port serves nothing else.
    for (const path of ['/api/realtime/stream', '/healthz', '/api/matches'])
      expect((await rawGet(service.metricsUrl, path)).status).toBe(404);
  });
});

describe('stream connection attempts per identity', () => {
  it(`allows ${CONNECTS_PER_MINUTE} a minute per identity, then 429 with Retry-After; other identities from the same address are unaffected`, async () => {
    const alice = await token('user', ['room-a'], { sub: 'rate-alice' });
    for (let i = 0; i < CONNECTS_PER_MINUTE; i++) {
      const client = await SseTestClient.open(service.url, { token: alice });
      expect(client.status).toBe(200);
      client.close();
    }
    // A JSON client sees the 429 (an event-stream client a 200 that says when to retry:
    // stream-refusals.test.ts).
    const json = { accept: 'application/json' };
    const refused = await SseTestClient.open(service.url, { token: alice, headers: json });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Object.keys(JSON.parse(refused.body) as object).sort()).toEqual(['error', 'message']);

    // The limit follows the identity (sub), not the token string: a fresh token does not reset it,
    // nor does a resume or another carrier.
    const aliceAgain = await token('user', ['room-a', 'room-b'], { sub: 'rate-alice' });
    expect((await SseTestClient.open(service.url, { token: aliceAgain, headers: json })).status).toBe(429);
    expect(
      (await SseTestClient.open(service.url, { token: aliceAgain, lastEventId: '0-1', headers: json })).status,
    ).toBe(429);
    expect((await SseTestClient.open(service.url, { query: { access_token: aliceAgain }, headers: json })).status).toBe(
      429,
    );

    // Bob shares alice's address (127.0.0.1) and is not affected.
    const bob = await SseTestClient.open(service.url, { token: await token('user', ['room-a'], { sub: 'rate-bob' }) });
    expect(bob.status).toBe(200);
    bob.close();
  });
});

describe('security headers', () => {
  it('every non-stream answer carries them, refusals included; the stream is not cached or sniffed as something else', async () => {
    const admin = await token('admin');
    const answers = [
      await fetch(`${service.url}/healthz`),
      await fetch(`${service.url}/readyz`),
      await fetch(`${service.url}/api/matches`, { headers: { authorization: `Bearer ${admin}` } }),
      await fetch(`${service.url}/api/matches`),
      await fetch(`${service.url}/api/nothing-here`),
      await fetch(`${service.url}/api/realtime/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: '{',
      }),
      await fetch(`${service.url}/api/realtime/stream`),
    ];
    for (const answer of answers) {
      const where = `${answer.url} → ${answer.status}`;
      expect(answer.headers.get('x-content-type-options'), where).toBe('nosniff');
      expect(answer.headers.get('content-security-policy'), where).toContain("default-src 'self'");
      expect(answer.headers.get('x-frame-options'), where).toBe('SAMEORIGIN');
      expect(answer.headers.get('referrer-policy'), where).toBe('no-referrer');
      expect(answer.headers.get('strict-transport-security'), where).toContain('max-age=');
      expect(answer.headers.get('x-powered-by'), where).toBeNull();
    }
    const stream = await SseTestClient.open(service.url, { token: admin });
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toContain('no-cache');
    stream.close();
  });
});
