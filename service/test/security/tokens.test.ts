// Tokens an attacker would try: expired, not yet valid, re-signed with another key, tampered,
// `alg: none`, another HMAC strength, an asymmetric algorithm name over an HMAC signature,
// the wrong audience or issuer, nonsense claims. Each is refused with 401 on every route
// and through every place a token can travel (header, ?access_token=, cookie); a valid token
// on the same path is admitted, so the refusals are about the token and nothing else.
import { SignJWT, base64url } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseTestClient } from '#test-support/sse-client';
import {
  TEST_SECRET,
  eventually,
  startInstance,
  testConfig,
  testStream,
  type TestInstance,
} from '#test-support/instance';

const ISSUER = 'https://id.example.test';
const AUDIENCE = 'trayb-realtime';
const secret = new TextEncoder().encode(TEST_SECRET);
const now = () => Math.floor(Date.now() / 1000);

let service: TestInstance;
beforeAll(async () => {
  service = await startInstance(
    testConfig(testStream(), {
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      SSE_MAX_CONNECT_PER_MINUTE: '100000',
      // Hundreds of forged tokens from one address: the limit on them has its own suite
      // (limits-across-replicas.test.ts).
      AUTH_MAX_FAILURES_PER_MINUTE: '100000',
    }),
  );
});
afterAll(async () => service.close());

type Claims = Record<string, unknown>;
const baseClaims = (role: string): Claims => ({
  sub: `${role}-sec`,
  role,
  rooms: ['room-1'],
  iss: ISSUER,
  aud: AUDIENCE,
  iat: now(),
  exp: now() + 600,
});

async function sign(claims: Claims, alg = 'HS256', key: Uint8Array = secret): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

/** A token whose header says `header` and whose signature is `signature`, built by hand. */
function forged(header: Record<string, unknown>, claims: Claims, signature = ''): string {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${encode(header)}.${encode(claims)}.${signature}`;
}

async function hostileTokens(role: string): Promise<[string, string][]> {
  const valid = await sign(baseClaims(role));
  const [header, , signature] = valid.split('.') as [string, string, string];
  return [
    ['expired', await sign({ ...baseClaims(role), exp: now() - 60 })],
    ['not yet valid (nbf)', await sign({ ...baseClaims(role), nbf: now() + 600 })],
    [
      'signed with another secret',
      await sign(baseClaims(role), 'HS256', new TextEncoder().encode('another-secret-entirely')),
    ],
    [
      'tampered payload (role → admin, rooms widened)',
      `${header}.${base64url.encode(JSON.stringify({ ...baseClaims(role), role: 'admin', rooms: ['room-1', 'room-2'] }))}.${signature}`,
    ],
    ['alg: none', forged({ alg: 'none', typ: 'JWT' }, baseClaims('admin'))],
    ['alg: None with a signature', forged({ alg: 'None', typ: 'JWT' }, baseClaims('admin'), signature)],
    ['alg: HS512 with the right secret', await sign(baseClaims(role), 'HS512')],
    ['alg: RS256 over an HMAC signature', forged({ alg: 'RS256', typ: 'JWT' }, baseClaims(role), signature)],
    ['wrong audience', await sign({ ...baseClaims(role), aud: 'another-service' })],
    ['no audience', await sign({ ...baseClaims(role), aud: undefined })],
    ['wrong issuer', await sign({ ...baseClaims(role), iss: 'https://evil.example.test' })],
    ['no issuer', await sign({ ...baseClaims(role), iss: undefined })],
    ['unknown role', await sign({ ...baseClaims(role), role: 'superuser' })],
    ['rooms not a list', await sign({ ...baseClaims(role), rooms: 'room-1' })],
    ['no subject', await sign({ ...baseClaims(role), sub: undefined })],
    ['truncated', valid.slice(0, -5)],
    ['two parts', `${header}.${valid.split('.')[1]}`],
  ];
}

type Carrier = 'header' | 'query' | 'cookie';
async function call(method: 'GET' | 'POST', url: string, tokenValue: string, carrier: Carrier, payload?: unknown) {
  const headers: Record<string, string> = {};
  if (carrier === 'header') headers.authorization = `Bearer ${tokenValue}`;
  if (carrier === 'cookie') headers.cookie = `access_token=${tokenValue}`;
  const target =
    carrier === 'query' ? `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(tokenValue)}` : url;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return service.app.inject({
    method,
    url: target,
    headers,
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
}

const streamLength = () => service.app.realtime.bus.redis.xlen(service.config.stream.key);
const event = { matchId: 'room-1', action: 'match:updated' };

describe('hostile tokens are refused with 401 everywhere', () => {
  for (const carrier of ['header', 'query', 'cookie'] as const) {
    it(`on publish, carried by ${carrier}: 401 with the error shape and nothing written; a valid token is accepted`, async () => {
      const before = await streamLength();
      for (const [what, hostile] of await hostileTokens('producer')) {
        const response = await call('POST', '/api/realtime/events', hostile, carrier, event);
        expect(response.statusCode, `${what}: ${response.body}`).toBe(401);
        expect(Object.keys(response.json<object>()).sort()).toEqual(['error', 'message']);
      }
      expect(await streamLength()).toBe(before);
      expect(
        (await call('POST', '/api/realtime/events', await sign(baseClaims('producer')), carrier, event)).statusCode,
      ).toBe(202);
    });

    // ?access_token= exists for EventSource, which cannot set headers; the polling routes
    // take header or cookie only.
    if (carrier !== 'query')
      it(`on the polling routes, carried by ${carrier}`, async () => {
        for (const [what, hostile] of await hostileTokens('user')) {
          for (const url of ['/api/matches', '/api/users/profile', '/api/matches/room-1']) {
            const response = await call('GET', url, hostile, carrier);
            expect(response.statusCode, `${what} on ${url}`).toBe(401);
          }
        }
        expect((await call('GET', '/api/users/profile', await sign(baseClaims('user')), carrier)).statusCode).toBe(200);
      });
  }

  it('on the stream, over a real socket: refused before any stream byte; a valid token opens it', async () => {
    for (const [what, hostile] of await hostileTokens('user')) {
      const client = await SseTestClient.open(service.url, { token: hostile });
      expect(client.status, what).toBe(401);
      expect(client.headers['content-type']).toContain('application/json');
      expect(Object.keys(JSON.parse(client.body) as object).sort()).toEqual(['error', 'message']);
      const byQuery = await SseTestClient.open(service.url, { query: { access_token: hostile } });
      expect(byQuery.status, `${what} in ?access_token=`).toBe(401);
      const byCookie = await SseTestClient.open(service.url, { headers: { cookie: `access_token=${hostile}` } });
      expect(byCookie.status, `${what} in the cookie`).toBe(401);
    }
    const ok = await SseTestClient.open(service.url, { token: await sign(baseClaims('user')) });
    expect(ok.status).toBe(200);
    ok.close();
  });

  it('a stream ends when its token expires, and a reconnect with that token is refused', async () => {
    const shortLived = await sign({ ...baseClaims('user'), exp: now() + 2 });
    const client = await SseTestClient.open(service.url, { token: shortLived });
    expect(client.status).toBe(200);
    await eventually(() => client.ended, 'the stream to end with its token', 6000);
    const again = await SseTestClient.open(service.url, { token: shortLived });
    expect(again.status).toBe(401);
  });
});

describe('roles', () => {
  it('only producers and admins publish or change matches; users and producers-on-the-stream are refused with 403 and nothing is written', async () => {
    const user = await sign(baseClaims('user'));
    const producer = await sign(baseClaims('producer'));
    const before = await streamLength();
    const refusals = [
      await call('POST', '/api/realtime/events', user, 'header', event),
      await call('POST', '/api/matches', user, 'header', { id: 'room-1', title: 'hijack' }),
      await service.app.inject({
        method: 'PATCH',
        url: '/api/matches/room-1',
        headers: { authorization: `Bearer ${user}`, 'content-type': 'application/json' },
        payload: '{"status":"live"}',
      }),
      await service.app.inject({
        method: 'DELETE',
        url: '/api/matches/room-1',
        headers: { authorization: `Bearer ${user}` },
      }),
      await call('GET', '/api/realtime/stream', producer, 'header'),
    ];
    for (const response of refusals) {
      expect(response.statusCode, response.body).toBe(403);
      expect(Object.keys(response.json<object>()).sort()).toEqual(['error', 'message']);
    }
    expect(await streamLength()).toBe(before);
  });
});
