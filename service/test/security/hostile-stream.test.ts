// Hostile stream clients, property-based: malformed, huge, future and foreign resume points
// (Last-Event-ID and ?lastEventId=), arbitrary query strings, and raw bytes on the socket.
// Malformed input gets a clear 4xx with the JSON error shape; a well-formed resume point is
// honoured exactly (the events after it, or resync when the stream cannot cover it); the
// process never answers 5xx and never falls over.
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareStreamIds } from '../../src/bus/index.ts';
import { SseTestClient } from '#test-support/sse-client';
import { eventually, startInstance, testConfig, testStream, token, type TestInstance } from '#test-support/instance';

let service: TestInstance;
let admin: string;
const streamIds: string[] = [];
const foreignIds: string[] = [];
let cases = 0;
const UINT64_MAX = 2n ** 64n - 1n;

beforeAll(async () => {
  // Another stream on the same Redis, written later: its ids are valid ids, not ours.
  const foreign = await startInstance(testConfig(testStream()));
  service = await startInstance(
    testConfig(testStream(), { SSE_MAX_CONNECT_PER_MINUTE: '1000000', SSE_HEARTBEAT_INTERVAL_MS: '60000' }),
  );
  for (let i = 0; i < 20; i++)
    streamIds.push(
      (
        await service.app.realtime.bus.emitRealtimeEvent({
          matchId: `m-${i % 3}`,
          action: 'match:updated',
          data: { i },
        })
      ).id,
    );
  for (let i = 0; i < 5; i++)
    foreignIds.push((await foreign.app.realtime.bus.emitRealtimeEvent({ matchId: 'm-0', action: 'match:created' })).id);
  await foreign.close();
  admin = await token('admin');
});
afterAll(async () => {
  console.info(`[security] hostile stream clients: ${cases} cases, no 5xx, no crash`);
  await service.close();
});

/** The resume-point grammar, written independently of the service: <ms>-<seq>, each a uint64. */
function wellFormed(value: string): boolean {
  const match = /^(\d{1,20})-(\d{1,20})$/.exec(value);
  return match !== null && BigInt(match[1] as string) <= UINT64_MAX && BigInt(match[2] as string) <= UINT64_MAX;
}

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
const malformedId = fc
  .oneof(
    fc.string(),
    fc.string({ unit: 'binary-ascii' }),
    fc.tuple(digits(1, 25), digits(1, 25)).map(([a, b]) => `${a}-${b}`),
    fc
      .tuple(digits(1, 20), fc.constantFrom('', '-', '-0-0', '.0', '-x', '-+1', ':0', '-0 '))
      .map(([a, tail]) => `${a}${tail}`),
    fc.constantFrom(
      '+',
      '-',
      '$',
      '>',
      '*',
      '0x10-0',
      '-1-0',
      '1e3-0',
      '18446744073709551616-0',
      '0-18446744073709551616',
      '١٢-٣',
    ),
    fc.integer({ min: 65, max: 20_000 }).map((n) => '9'.repeat(n)),
  )
  .filter((value) => value.trim() !== '' && !wellFormed(value) && !wellFormed(value.trim()));

function expectRefusal(response: { statusCode: number; body: string }, status: number): void {
  cases++;
  expect(response.statusCode, response.body.slice(0, 200)).toBe(status);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['error', 'message']);
}

describe('resume points', () => {
  it('a malformed Last-Event-ID header gets 400 with the JSON error shape', async () => {
    const headerSafe = malformedId
      .map((value) => value.replace(/[^\x20-\x7e]/g, '?'))
      .filter((value) => value.trim() !== '' && !wellFormed(value.trim()));
    await fc.assert(
      fc.asyncProperty(headerSafe, async (value) => {
        const response = await service.app.inject({
          method: 'GET',
          url: '/api/realtime/stream',
          headers: { authorization: `Bearer ${admin}`, 'last-event-id': value },
        });
        expectRefusal(response, 400);
      }),
      { numRuns: 700 },
    );
  });

  it('a malformed ?lastEventId= gets 400 with the JSON error shape', async () => {
    await fc.assert(
      fc.asyncProperty(malformedId, async (value) => {
        const response = await service.app.inject({
          method: 'GET',
          url: `/api/realtime/stream?lastEventId=${encodeURIComponent(value)}`,
          headers: { authorization: `Bearer ${admin}` },
        });
        expectRefusal(response, 400);
      }),
      { numRuns: 700 },
    );
  });

  it('a well-formed resume point, ours, foreign, future or huge, gets exactly the events after it or resync, over a real socket', async () => {
    const ours = fc.constantFrom(...streamIds);
    const nearOurs = fc.tuple(ours, fc.constantFrom(-1n, 1n)).map(([id, step]) => {
      const [ms, seq] = id.split('-').map(BigInt) as [bigint, bigint];
      return seq + step < 0n ? `${ms - 1n}-${UINT64_MAX}` : `${ms}-${seq + step}`;
    });
    const id = fc.oneof(
      ours,
      nearOurs,
      fc.constantFrom(...foreignIds),
      ours.map((value) => `000${value}`),
      fc.tuple(fc.bigInt(0n, UINT64_MAX), fc.bigInt(0n, UINT64_MAX)).map(([a, b]) => `${a}-${b}`),
      fc.constantFrom('0-0', '0-1', `${UINT64_MAX}-${UINT64_MAX}`),
    );
    await fc.assert(
      fc.asyncProperty(id, fc.boolean(), async (lastId, inHeader) => {
        cases++;
        const client = await SseTestClient.open(service.url, {
          token: admin,
          ...(inHeader ? { lastEventId: lastId } : { query: { lastEventId: lastId } }),
        });
        try {
          expect(client.status).toBe(200);
          const last = streamIds.at(-1) as string;
          if (compareStreamIds(lastId, last) > 0) {
            // Beyond anything this stream produced: the client must refetch, and gets nothing replayed.
            const resync = await client.waitForEvent('resync');
            expect(JSON.parse(resync.data)).toMatchObject({ reason: 'unknown_resume_point' });
            expect(client.streamEvents).toEqual([]);
          } else {
            const expected = streamIds.filter((other) => compareStreamIds(other, lastId) > 0);
            await client.waitForEvents(expected.length);
            await new Promise((resolve) => setTimeout(resolve, 20));
            expect(client.ids).toEqual(expected);
            expect(client.events.some((event) => event.event === 'resync')).toBe(false);
          }
        } finally {
          client.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('query strings', () => {
  const key = fc.oneof(
    fc.constantFrom(
      'matchId',
      'lastEventId',
      'access_token',
      'matchId[]',
      '__proto__',
      'constructor',
      'cache',
      'fullHistory',
    ),
    fc.string({ maxLength: 10 }),
  );
  const value = fc.oneof(
    fc.string(),
    fc.constantFrom('', 'room-ok', 'x'.repeat(300), '../x', '%', 'true', '1-0'),
    fc.integer().map(String),
  );
  const pairs = fc.array(fc.tuple(key, value), { maxLength: 8 });
  const queryString = (entries: [string, string][]) =>
    entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

  it('on the stream: a producer or a user asking for a room it lacks is refused with a clean 4xx, never 5xx', async () => {
    const producer = await token('producer');
    const user = await token('user', ['room-ok']);
    const foreignRoom = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9:_.-]{0,20}$/).filter((room) => room !== 'room-ok');
    await fc.assert(
      fc.asyncProperty(pairs, foreignRoom, fc.boolean(), async (entries, room, asProducer) => {
        const query = asProducer ? queryString(entries) : queryString([...entries, ['matchId', room]]);
        const response = await service.app.inject({
          method: 'GET',
          url: `/api/realtime/stream?${query}`,
          headers: { authorization: `Bearer ${asProducer ? producer : user}` },
        });
        cases++;
        expect([400, 401, 403]).toContain(response.statusCode);
        expect(Object.keys(JSON.parse(response.body) as object).sort()).toEqual(['error', 'message']);
      }),
      { numRuns: 600 },
    );
  });

  it('on the polling routes: 200 or a clean 400, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairs,
        fc.constantFrom('/api/matches', '/api/users/profile', '/api/matches/m-1', '/healthz'),
        async (entries, path) => {
          const response = await service.app.inject({
            method: 'GET',
            url: `${path}?${queryString(entries)}`,
            headers: { authorization: `Bearer ${admin}` },
          });
          cases++;
          expect([200, 400, 404]).toContain(response.statusCode);
          if (response.statusCode !== 200)
            expect(Object.keys(JSON.parse(response.body) as object).sort()).toEqual(['error', 'message']);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('raw bytes on the socket', () => {
  /** Writes `bytes`, returns the status code of the first response line, if any arrives. */
  function exchange(port: number, bytes: Buffer): Promise<number | undefined> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      let received = '';
      const done = () => {
        socket.destroy();
        const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
        resolve(match === null ? undefined : Number(match[1]));
      };
      socket.setTimeout(300, done);
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        if (received.includes('\r\n')) done();
      });
      socket.on('error', done);
      socket.on('close', done);
      socket.on('connect', () => socket.end(bytes));
    });
  }

  it('garbage, broken request lines, oversized and smuggling-shaped headers get a 4xx or nothing, and the service keeps serving', async () => {
    const port = Number(new URL(service.url).port);
    const request = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
      fc.string({ unit: 'binary-ascii' }).map((text) => Buffer.from(`${text}\r\n\r\n`, 'latin1')),
      fc
        .tuple(
          fc.constantFrom('GET', 'POST', 'BREW', '', 'G\0T'),
          fc.string({ unit: 'binary-ascii', maxLength: 40 }),
          fc.constantFrom('HTTP/1.1', 'HTTP/9.9', 'HTTP/1', ''),
        )
        .map(([method, path, version]) => Buffer.from(`${method} /${path} ${version}\r\nHost: x\r\n\r\n`, 'latin1')),
      fc
        .integer({ min: 17_000, max: 70_000 })
        .map((size) =>
          Buffer.from(`GET /api/realtime/stream HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${'1'.repeat(size)}\r\n\r\n`),
        ),
      fc
        .constantFrom(
          'POST /api/realtime/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
          'POST /api/realtime/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}',
          'POST /api/realtime/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
          'GET /api/realtime/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x01\x02\r\n\r\n',
        )
        .map((text) => Buffer.from(text, 'latin1')),
    );
    await fc.assert(
      fc.asyncProperty(request, async (bytes) => {
        cases++;
        const status = await exchange(port, bytes);
        if (status !== undefined) expect(status).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
    await eventually(
      async () => (await fetch(`${service.url}/healthz`)).status === 200,
      'the service to keep answering',
    );
  });
});
