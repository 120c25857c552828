// The limits hold for the deployment, not per pod: two instances on one Redis (as two
// replicas are) share the stream attempt count of an identity and the failed-authentication
// count of an address. Addresses come from X-Forwarded-For through a trusted proxy, as
// behind an ingress.
import { describe, expect, it } from 'vitest';
import { perTest } from '#test-support/per-test';
import { testStream, token } from '#test-support/instance';

const { instance, open } = perTest();
const JSON_ONLY = { accept: 'application/json' };

async function twoReplicas(env: Record<string, string>) {
  const stream = testStream();
  const trusted = { HTTP_TRUST_PROXY: '127.0.0.1', ...env };
  return [await instance(stream, trusted), await instance(stream, trusted)] as const;
}

function streamAttempt(url: string, bearer: string, from: string, accept = 'application/json') {
  return fetch(`${url}/api/realtime/stream`, {
    headers: { authorization: `Bearer ${bearer}`, 'x-forwarded-for': from, accept },
  });
}

describe('limits across replicas', () => {
  it('counts an identity’s stream attempts on every instance together: 4 a minute means 4, not 4 per pod', async () => {
    const [first, second] = await twoReplicas({ SSE_MAX_CONNECT_PER_MINUTE: '4' });
    const carol = await token('user', ['m-1'], { sub: 'replicas-carol' });
    for (const target of [first, second, first, second]) {
      const stream = await open(target.url, { token: carol, headers: JSON_ONLY });
      expect(stream.status).toBe(200);
      stream.close();
    }
    for (const target of [first, second])
      expect((await open(target.url, { token: carol, headers: JSON_ONLY })).status).toBe(429);
  });

  it('stops an address after its forged tokens on any instance, before checking even a valid token; other addresses go on', async () => {
    const [first, second] = await twoReplicas({ AUTH_MAX_FAILURES_PER_MINUTE: '5' });
    const guesser = '203.0.113.7';
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const target = i % 2 === 0 ? first : second;
      statuses.push((await streamAttempt(target.url, `forged.token.${i}`, guesser)).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);

    const valid = await token('admin', [], { sub: 'replicas-dave' });
    const blocked = await fetch(`${second.url}/api/matches`, {
      headers: { authorization: `Bearer ${valid}`, 'x-forwarded-for': guesser },
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Object.keys((await blocked.json()) as object).sort()).toEqual(['error', 'message']);
    // An EventSource from that address is told to come back later, not refused for good.
    const eventStream = await streamAttempt(first.url, valid, guesser, 'text/event-stream');
    expect(eventStream.status).toBe(200);
    expect(await eventStream.text()).toMatch(/^retry: \d+\n\nevent: refused\ndata: \{"action":"refused","status":429,/);

    expect((await streamAttempt(first.url, 'forged.token.x', '203.0.113.8')).status).toBe(401);
    const neighbour = await fetch(`${first.url}/api/matches`, {
      headers: { authorization: `Bearer ${valid}`, 'x-forwarded-for': '203.0.113.8' },
    });
    expect(neighbour.status).toBe(200);
  });

  it('does not count expired or missing tokens: clients reconnecting with a stale token are not guessing', async () => {
    const [first, second] = await twoReplicas({ AUTH_MAX_FAILURES_PER_MINUTE: '2' });
    const from = '203.0.113.9';
    const expired = await token('user', ['m-1'], { sub: 'replicas-erin', expiresIn: '-1m' });
    for (const target of [first, second, first, second]) {
      expect((await streamAttempt(target.url, expired, from)).status).toBe(401);
      const missing = await fetch(`${target.url}/api/matches`, { headers: { 'x-forwarded-for': from } });
      expect(missing.status).toBe(401);
    }
    const fresh = await token('user', ['m-1'], { sub: 'replicas-erin' });
    const stream = await open(first.url, { token: fresh, headers: { ...JSON_ONLY, 'x-forwarded-for': from } });
    expect(stream.status).toBe(200);
  });
});
