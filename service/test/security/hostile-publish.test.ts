// Hostile producers, property-based: whatever body, content type or header arrives, the
// answer is 202 with a complete stream entry that round-trips the input, or a 4xx with the
// one JSON error shape and the stream untouched. Never a 5xx, never a partial entry.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_EVENTS } from '#contract';
import { decodeEntry } from '../../src/bus/index.ts';
import { startInstance, testConfig, testStream, token, type TestInstance } from '#test-support/instance';

let service: TestInstance;
let producer: string;
let cases = 0;
let coerced = 0;
beforeAll(async () => {
  service = await startInstance(
    testConfig(testStream(), {
      HTTP_BODY_LIMIT_BYTES: '16384',
      REALTIME_STREAM_MAXLEN: '100000',
      // Hundreds of hostile tokens from one address; their limit has its own suite.
      AUTH_MAX_FAILURES_PER_MINUTE: '100000',
    }),
  );
  producer = await token('producer');
});
afterAll(async () => {
  console.info(
    `[security] hostile publish bodies and headers: ${cases} cases, no 5xx, no partial entry; ${coerced} accepted with a coerced scalar matchId`,
  );
  await service.close();
});

const streamLength = () => service.app.realtime.bus.redis.xlen(service.config.stream.key);

/** A JSON object as text, so keys like __proto__ reach the server as written. */
function objectText(entries: [string, unknown][]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value === undefined ? 'null' : (JSON.stringify(value) ?? 'null')}`).join(',')}}`;
}

const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'matchId', 'action'),
  fc.string({ maxLength: 12 }),
);
const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const matchId = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9:_.-]{0,30}$/) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.constant(''),
      fc.constant('x'.repeat(5000)),
      fc.constant('../etc'),
      fc.constant('a b'),
    ),
  },
);
const action = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...STREAM_EVENTS) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom('shutdown', 'resync', 'match:exploded', 'MATCH:CREATED', ''),
      fc.string(),
      fc.integer(),
      fc.constant(null),
    ),
  },
);
const timestamp = fc.option(
  fc.oneof(
    fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) }).map((d) => d.toISOString()),
    fc.string(),
    fc.integer(),
    fc.constant('2026-13-45T99:99:99Z'),
  ),
  { nil: undefined },
);
const data = fc.option(
  fc.oneof(
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 4 })),
    fc.jsonValue({ maxDepth: 3 }),
    fc.integer({ min: 10, max: 60 }).map((depth) => ({ nested: JSON.parse(deep(depth)) as unknown })),
  ),
  { nil: undefined },
);

/** Bodies shaped like events, with each field sometimes wrong, plus extra and hostile keys. */
const eventLike = fc
  .record({
    matchId,
    action,
    data,
    timestamp,
    extra: fc.array(fc.tuple(hostileKey, fc.jsonValue({ maxDepth: 2 })), { maxLength: 2 }),
  })
  .map(({ extra, ...fields }) => {
    const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
    return { text: objectText([...entries, ...extra]) };
  });
const anyBody = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.string(),
  fc.constantFrom(
    '',
    '{',
    '{"matchId":',
    'null',
    '[]',
    '"x"',
    '{"matchId":"m","action":"match:updated","data":{"__proto__":{"admin":true}}}',
    `{"matchId":"m","action":"match:updated","data":${deep(5000)}}`,
  ),
  fc
    .integer({ min: 16_000, max: 40_000 })
    .map((size) => JSON.stringify({ matchId: 'm', action: 'match:updated', data: { blob: 'x'.repeat(size) } })),
);
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-16',
      'APPLICATION/JSON',
      '',
    ),
  },
);

async function publishRaw(body: string, type: string, authorization = `Bearer ${producer}`) {
  const headers: Record<string, string> = { authorization };
  if (type !== '') headers['content-type'] = type;
  const response = await service.app.inject({ method: 'POST', url: '/api/realtime/events', headers, payload: body });
  return { status: response.statusCode, body: response.body };
}

/** The property every answer must have; returns the id of an accepted event. */
async function expectCleanAnswer(
  answer: { status: number; body: string },
  lengthBefore: number,
): Promise<string | undefined> {
  cases++;
  expect(answer.status, answer.body).toBeLessThan(500);
  const parsed = JSON.parse(answer.body) as Record<string, unknown>;
  if (answer.status === 202) {
    expect(await streamLength()).toBe(lengthBefore + 1);
    return parsed.id as string;
  }
  expect(answer.status).toBeGreaterThanOrEqual(400);
  expect(Object.keys(parsed).sort()).toEqual(['error', 'message']);
  expect(typeof parsed.message).toBe('string');
  expect(await streamLength()).toBe(lengthBefore);
  return undefined;
}

describe('POST /api/realtime/events under hostile bodies', () => {
  it('event-shaped bodies: accepted ones are stored whole and round-trip; refused ones leave the stream as it was', async () => {
    await fc.assert(
      fc.asyncProperty(eventLike, contentType, async ({ text }, type) => {
        const before = await streamLength();
        const id = await expectCleanAnswer(await publishRaw(text, type), before);
        if (id === undefined) return;
        // Accepted: it must have been a valid event (duplicate keys: the last one counts, as in
        // JSON.parse), and what is stored is what was sent.
        const sent = JSON.parse(text) as Record<string, unknown>;
        expect(Object.keys(sent).every((key) => ['matchId', 'action', 'data', 'timestamp'].includes(key))).toBe(true);
        expect(STREAM_EVENTS).toContain(sent.action);
        const [stored] = (await service.app.realtime.bus.redis.xrange(service.config.stream.key, id, id)) as [
          string,
          string[],
        ][];
        const [storedId, storedFields] = stored ?? ['', []];
        const entry = decodeEntry(storedId, storedFields);
        expect(storedFields.filter((_, i) => i % 2 === 0)).toEqual(['event', 'payload', 'timestamp']);
        // Fastify's validator coerces scalars (coerceTypes): a numeric or boolean matchId is
        // stored as its string. Counted and reported; objects, arrays and null are refused.
        if (typeof sent.matchId !== 'string') coerced++;
        expect(['string', 'number', 'boolean']).toContain(typeof sent.matchId);
        expect(entry?.event).toMatchObject({ matchId: String(sent.matchId), action: sent.action });
        expect(entry?.event.data).toEqual(sent.data);
      }),
      { numRuns: 1500 },
    );
  });

  it('bodies of any shape, size and encoding never cause a 5xx or a stray entry', async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, contentType, async (body, type) => {
        const before = await streamLength();
        await expectCleanAnswer(await publishRaw(body, type), before);
      }),
      { numRuns: 800 },
    );
  });

  it('an unknown action, a control action, an unknown field or a prototype-polluting key is always refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .string()
            .filter((a) => !(STREAM_EVENTS as readonly string[]).includes(a))
            .map((a) => JSON.stringify({ matchId: 'm', action: a })),
          fc.constantFrom('shutdown', 'resync').map((a) => JSON.stringify({ matchId: 'm', action: a })),
          fc
            .jsonValue({ maxDepth: 2 })
            .map(
              (v) =>
                `{"matchId":"m","action":"match:updated","data":{"__proto__":{"x":${JSON.stringify(v) ?? 'null'}}}}`,
            ),
          fc
            .jsonValue({ maxDepth: 2 })
            .map(
              (v) =>
                `{"matchId":"m","action":"match:updated","data":{"a":{"constructor":{"prototype":${JSON.stringify(v) ?? 'null'}}}}}`,
            ),
          fc
            .string({ maxLength: 12 })
            .filter((k) => !['matchId', 'action', 'data', 'timestamp'].includes(k))
            .map((k) => `{"matchId":"m","action":"match:updated",${JSON.stringify(k)}:1}`),
        ),
        async (body) => {
          const before = await streamLength();
          const answer = await publishRaw(body, 'application/json');
          expect(answer.status).toBe(400);
          await expectCleanAnswer(answer, before);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('hostile Authorization headers are refused with 401 before any body is looked at', async () => {
    const header = fc.oneof(
      fc.string({ unit: 'binary-ascii' }).map((s) => s.replace(/[\r\n\0]/g, '')),
      fc.string({ unit: 'binary-ascii' }).map((s) => `Bearer ${s.replace(/[\r\n\0\s]/g, '') || 'x'}`),
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        'bearer a.b.c',
        'Basic dXNlcjpwYXNz',
        `Bearer ${'a'.repeat(9000)}`,
        'Bearer e30.e30.',
        'Bearer ..',
      ),
    );
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        const before = await streamLength();
        const answer = await publishRaw(
          JSON.stringify({ matchId: 'm', action: 'match:updated' }),
          'application/json',
          authorization,
        );
        expect(answer.status).toBe(401);
        await expectCleanAnswer(answer, before);
      }),
      { numRuns: 400 },
    );
  });
});

describe('the match routes under hostile bodies', () => {
  it('POST and PATCH answer 2xx or a clean 4xx, and a refused change emits nothing', async () => {
    const body = fc.oneof(
      fc
        .record({
          id: fc.option(matchId, { nil: undefined }),
          title: fc.oneof(fc.string(), fc.integer()),
          status: fc.option(fc.string(), { nil: undefined }),
          score: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
        })
        .map((value) => JSON.stringify(value)),
      anyBody,
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom('POST /api/matches', 'PATCH /api/matches/hostile-1'),
        async (payload, route) => {
          cases++;
          const [method, url] = route.split(' ') as ['POST' | 'PATCH', string];
          const before = await streamLength();
          const response = await service.app.inject({
            method,
            url,
            headers: { authorization: `Bearer ${producer}`, 'content-type': 'application/json' },
            payload,
          });
          expect(response.statusCode, response.body).toBeLessThan(500);
          if (response.statusCode >= 400) {
            expect(Object.keys(response.json<object>()).sort()).toEqual(['error', 'message']);
            expect(await streamLength()).toBe(before);
          } else expect(await streamLength()).toBe(before + 1);
        },
      ),
      { numRuns: 500 },
    );
  });
});
