// The REST side: producers, the polling endpoints, and the one error shape for every
// refusal (400 / 401 / 403 / 404 / 413), never a crash.
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET, startInstance, testConfig, testStream, token, type TestInstance } from '#test-support/instance';

let service: TestInstance;
beforeAll(async () => {
  service = await startInstance(testConfig(testStream(), { HTTP_BODY_LIMIT_BYTES: '4096' }));
});
afterAll(async () => service.close());

async function call(method: string, path: string, options: { bearer?: string; body?: unknown; raw?: string } = {}) {
  const response = await service.app.inject({
    method: method as 'GET',
    url: path,
    headers: {
      ...(options.bearer === undefined ? {} : { authorization: `Bearer ${options.bearer}` }),
      ...(options.body === undefined && options.raw === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.raw !== undefined
      ? { payload: options.raw }
      : options.body === undefined
        ? {}
        : { payload: JSON.stringify(options.body) }),
  });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>(), headers: response.headers };
}

describe('producers', () => {
  it('create, update and delete a match, each emitting its event into the stream', async () => {
    const producer = await token('producer');
    const created = await call('POST', '/api/matches', { bearer: producer, body: { title: 'Falcons vs Owls' } });
    expect(created.status).toBe(201);
    const match = created.body.match as { id: string; status: string };
    expect(match.status).toBe('scheduled');

    const updated = await call('PATCH', `/api/matches/${match.id}`, {
      bearer: producer,
      body: { status: 'live', score: { home: 1, away: 0 } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.match).toMatchObject({ id: match.id, status: 'live', score: { home: 1, away: 0 } });
    const deleted = await call('DELETE', `/api/matches/${match.id}`, { bearer: producer });
    expect(deleted.status).toBe(200);

    const recent = await service.app.realtime.bus.recentEvents(10);
    const ours = recent.filter((entry) => entry.event.matchId === match.id).reverse();
    expect(ours.map((entry) => entry.event.action)).toEqual(['match:created', 'match:updated', 'match:deleted']);
    expect(ours.map((entry) => entry.id)).toEqual([created.body.eventId, updated.body.eventId, deleted.body.eventId]);
    expect((await call('GET', `/api/matches/${match.id}`, { bearer: producer })).status).toBe(404);
  });

  it('match changes trim the stream to REALTIME_STREAM_MAXLEN, as published events do', async () => {
    const small = await startInstance(testConfig(testStream(), { REALTIME_STREAM_MAXLEN: '10' }));
    try {
      const { matches, bus } = small.app.realtime;
      // XADD MAXLEN ~ trims whole radix nodes (100 entries by default): write well past that.
      for (let i = 0; i < 300; i++) await matches.create({ title: `match ${i}` });
      const length = await bus.redis.xlen(small.config.stream.key);
      expect(length).toBeLessThan(200);
    } finally {
      await small.close();
    }
  });

  it('users see only the matches of their rooms, in the list, by id and in their profile', async () => {
    const admin = await token('admin');
    const mine = (await call('POST', '/api/matches', { bearer: admin, body: { id: 'room-mine', title: 'mine' } })).body
      .match as { id: string };
    await call('POST', '/api/matches', { bearer: admin, body: { id: 'room-other', title: 'other' } });
    const user = await token('user', [mine.id]);
    const list = await call('GET', '/api/matches?cache=refresh', { bearer: user });
    expect((list.body.matches as { id: string }[]).map((match) => match.id)).toEqual([mine.id]);
    expect((await call('GET', '/api/matches/room-other', { bearer: user })).status).toBe(403);
    const profile = await call('GET', '/api/users/profile?fullHistory=true', { bearer: user });
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ id: 'user-1', role: 'user', rooms: [mine.id] });
    expect((profile.body.history as { matchId: string }[]).every((entry) => entry.matchId === mine.id)).toBe(true);
    expect((profile.body.history as unknown[]).length).toBeGreaterThan(0);
    const short = await call('GET', '/api/users/profile?fullHistory=false', { bearer: user });
    expect(short.body.history).toBeUndefined();
  });
});

describe('refusals have the right status and a JSON { error, message } body', () => {
  const cases: [string, () => Promise<{ status: number; body: Record<string, unknown> }>, number][] = [
    ['no token', () => call('GET', '/api/matches'), 401],
    [
      'a malformed Authorization header',
      async () =>
        service.app
          .inject({ method: 'GET', url: '/api/matches', headers: { authorization: 'Basic abc' } })
          .then((r) => ({ status: r.statusCode, body: r.json() })),
      401,
    ],
    [
      'a token signed with another secret',
      async () =>
        call('GET', '/api/matches', {
          bearer: await new SignJWT({ role: 'admin' })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('x')
            .sign(new TextEncoder().encode('another-secret')),
        }),
      401,
    ],
    [
      'an expired token',
      async () =>
        call('GET', '/api/matches', {
          bearer: await new SignJWT({ role: 'admin' })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('x')
            .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
            .sign(new TextEncoder().encode(TEST_SECRET)),
        }),
      401,
    ],
    [
      'a token without a role',
      async () =>
        call('GET', '/api/matches', {
          bearer: await new SignJWT({})
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('x')
            .sign(new TextEncoder().encode(TEST_SECRET)),
        }),
      401,
    ],
    [
      'a user publishing',
      async () =>
        call('POST', '/api/realtime/events', {
          bearer: await token('user', ['m']),
          body: { matchId: 'm', action: 'match:updated' },
        }),
      403,
    ],
    [
      'a producer subscribing',
      async () => call('GET', '/api/realtime/stream', { bearer: await token('producer') }),
      403,
    ],
    [
      'a user subscribing to a room it lacks',
      async () => call('GET', '/api/realtime/stream?matchId=b', { bearer: await token('user', ['a']) }),
      403,
    ],
    [
      'an unknown action',
      async () =>
        call('POST', '/api/realtime/events', {
          bearer: await token('producer'),
          body: { matchId: 'm', action: 'match:exploded' },
        }),
      400,
    ],
    [
      'a number where the matchId string belongs',
      async () =>
        call('POST', '/api/realtime/events', {
          bearer: await token('producer'),
          body: { matchId: 0, action: 'match:updated' },
        }),
      400,
    ],
    [
      'a boolean where the title string belongs',
      async () => call('POST', '/api/matches', { bearer: await token('producer'), body: { title: true } }),
      400,
    ],
    [
      'a missing matchId',
      async () =>
        call('POST', '/api/realtime/events', { bearer: await token('producer'), body: { action: 'match:updated' } }),
      400,
    ],
    [
      'a non-ISO timestamp',
      async () =>
        call('POST', '/api/realtime/events', {
          bearer: await token('producer'),
          body: { matchId: 'm', action: 'match:updated', timestamp: 'yesterday' },
        }),
      400,
    ],
    [
      'invalid JSON',
      async () => call('POST', '/api/realtime/events', { bearer: await token('producer'), raw: '{"matchId":' }),
      400,
    ],
    [
      'a __proto__ key',
      async () =>
        call('POST', '/api/realtime/events', {
          bearer: await token('producer'),
          raw: '{"matchId":"m","action":"match:updated","data":{"__proto__":{"admin":true}}}',
        }),
      400,
    ],
    [
      'data nested too deep',
      async () =>
        call('POST', '/api/realtime/events', {
          bearer: await token('producer'),
          raw: `{"matchId":"m","action":"match:updated","data":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`,
        }),
      400,
    ],
    [
      'a body over the limit',
      async () =>
        call('POST', '/api/realtime/events', {
          bearer: await token('producer'),
          body: { matchId: 'm', action: 'match:updated', data: { blob: 'x'.repeat(5000) } },
        }),
      413,
    ],
    [
      'an unknown match',
      async () => call('PATCH', '/api/matches/nope', { bearer: await token('admin'), body: { status: 'live' } }),
      404,
    ],
    [
      'an empty update',
      async () => call('PATCH', '/api/matches/nope', { bearer: await token('admin'), body: {} }),
      400,
    ],
    ['an unknown route', () => call('GET', '/api/nothing-here'), 404],
  ];
  for (const [what, request, status] of cases) {
    it(`${what} → ${status}`, async () => {
      const response = await request();
      expect(response.status).toBe(status);
      expect(Object.keys(response.body).sort()).toEqual(['error', 'message']);
      expect(typeof response.body.message).toBe('string');
    });
  }

  it('a refused publish leaves nothing in the stream', async () => {
    const before = (await service.app.realtime.bus.recentEvents(1))[0]?.id;
    await call('POST', '/api/realtime/events', {
      bearer: await token('producer'),
      body: { matchId: 'm', action: 'match:exploded' },
    });
    expect((await service.app.realtime.bus.recentEvents(1))[0]?.id).toBe(before);
  });

  it('JSON routes carry security headers', async () => {
    const response = await call('GET', '/healthz');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBeDefined();
  });
});
