// How the fan-out writes: events of one flush window share a write, a burst inside a window
// never overflows a fast client's queue, stream ids order as numbers whatever their
// spelling, and HTTP/1.0 clients get an unframed body.
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareStreamIds } from '../src/bus/index.ts';
import { FrameJoiner, wireFrame, type WireFrame } from '../src/sse/frames.ts';
import { perTest } from '#test-support/per-test';
import { eventually, testStream, token, type TestInstance } from '#test-support/instance';

const { instance, open } = perTest();

/** Counts the writes the server makes on every socket it accepts from now on. */
function countSocketWrites(service: TestInstance): { writes: number } {
  const counter = { writes: 0 };
  service.app.server.on('connection', (socket: Socket) => {
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = (...args: unknown[]) => {
      counter.writes++;
      return write(...args);
    };
  });
  return counter;
}

function emit(service: TestInstance, count: number, data: Record<string, unknown> = {}) {
  return Promise.all(
    Array.from({ length: count }, (_, seq) =>
      service.app.realtime.bus.emitRealtimeEvent({ matchId: 'm-w', action: 'match:updated', data: { seq, ...data } }),
    ),
  );
}

describe('stream ids', () => {
  const part = fc.bigInt({ min: 0n, max: 18446744073709551615n });
  const spelled = (value: bigint, zeros: number) => '0'.repeat(zeros) + value.toString();

  it('order as the numbers they spell, with or without leading zeros', () => {
    fc.assert(
      fc.property(part, part, part, part, fc.nat(2), fc.nat(2), (ams, aseq, bms, bseq, za, zb) => {
        const a = `${spelled(ams, za)}-${spelled(aseq, zb)}`;
        const b = `${spelled(bms, zb)}-${spelled(bseq, za)}`;
        const expected = ams === bms ? (aseq === bseq ? 0 : aseq < bseq ? -1 : 1) : ams < bms ? -1 : 1;
        expect(Math.sign(compareStreamIds(a, b))).toBe(expected);
      }),
    );
  });
});

describe('joining the frames of one write', () => {
  const [a, b, c] = ['data: a\n\n', 'data: b\n\n', 'data: c\n\n'].map((text) => wireFrame(text)) as [
    WireFrame,
    WireFrame,
    WireFrame,
  ];
  const frames = (...list: WireFrame[]) => list;

  it('hands the next client with the same frames the same bytes, and joins anything else anew', () => {
    const joiner = new FrameJoiner();
    const first = joiner.join(frames(a, b, c), true);
    expect(joiner.join(frames(a, b, c), true)).toBe(first);
    expect(first.toString()).toBe('9\r\ndata: a\n\n\r\n9\r\ndata: b\n\n\r\n9\r\ndata: c\n\n\r\n');
    // Same first and last frame and length, another frame between: not the same write.
    expect(joiner.join(frames(a, a, c), true).toString()).toBe(
      '9\r\ndata: a\n\n\r\n9\r\ndata: a\n\n\r\n9\r\ndata: c\n\n\r\n',
    );
    expect(joiner.join(frames(a, a, c), false).toString()).toBe('data: a\n\ndata: a\n\ndata: c\n\n');
    joiner.clear();
    expect(joiner.join(frames(a, a, c), false)).not.toBe(first);
  });
});

describe('the fan-out', () => {
  it('puts the events of one flush window into fewer writes than events, and delivers each once, in order', async () => {
    const service = await instance(testStream(), { SSE_FLUSH_INTERVAL_MS: '300' });
    const counter = countSocketWrites(service);
    const client = await open(service.url, { token: await token('admin') });
    await eventually(() => client.retry !== undefined, 'the retry hint');
    const writesBefore = counter.writes;

    const published: string[] = [];
    for (let i = 0; i < 20; i++) published.push(...(await emit(service, 1)).map((entry) => entry.id));
    await client.waitForEvents(20);

    expect(client.ids).toEqual(published);
    expect(counter.writes - writesBefore).toBeLessThan(20);
  });

  it('flushes early rather than let a burst inside one window fill a fast client queue', async () => {
    // A long window: without the early flush, every client queue would overflow in it.
    const service = await instance(testStream(), {
      SSE_FLUSH_INTERVAL_MS: '2000',
      SSE_CLIENT_QUEUE_LIMIT: '10',
      REALTIME_STREAM_READ_COUNT: '4',
    });
    const client = await open(service.url, { token: await token('admin') });
    await eventually(() => client.retry !== undefined, 'the retry hint');

    const published = (await emit(service, 60)).map((entry) => entry.id);
    await client.waitForEvents(60);

    expect(client.ids).toEqual(published);
    expect(client.events.some((event) => event.event === 'resync')).toBe(false);
    const dropped = await service.app.realtime.metrics.registry.getSingleMetric('sse_events_dropped_total')?.get();
    expect(dropped?.values.reduce((sum, value) => sum + value.value, 0)).toBe(0);
  });

  it('sends an HTTP/1.0 client the stream without chunk framing', async () => {
    const service = await instance(testStream(), { SSE_FLUSH_INTERVAL_MS: '0' });
    const bearer = await token('admin');
    const port = new URL(service.url).port;
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.write(
      `GET /api/realtime/stream HTTP/1.0\r\nAuthorization: Bearer ${bearer}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    try {
      await eventually(() => received.includes('retry: 5000'), 'the retry hint');
      const [entry] = await emit(service, 1);
      await eventually(() => received.includes(`id: ${entry?.id}\n`), 'the event');
      const [head, body] = received.split('\r\n\r\n', 2) as [string, string];
      expect(head.toLowerCase()).not.toContain('transfer-encoding');
      expect(body.startsWith('retry: 5000\n\nid: ')).toBe(true);
    } finally {
      socket.destroy();
    }
  });

  it('answers HEAD on the stream with headers only: no body, and no stream held open', async () => {
    const service = await instance(testStream(), { SSE_FLUSH_INTERVAL_MS: '0' });
    const bearer = await token('admin');
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(service.url).port) });
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.write(`HEAD /api/realtime/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${bearer}\r\n\r\n`);
    try {
      await eventually(() => received.includes('\r\n\r\n'), 'the response head');
      await emit(service, 3);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(received.startsWith('HTTP/1.1 200')).toBe(true);
      expect(received).toContain('content-type: text/event-stream');
      expect(received.slice(received.indexOf('\r\n\r\n') + 4)).toBe('');
      expect(service.app.realtime.fanout.size).toBe(0);
    } finally {
      socket.destroy();
    }
  });
});
