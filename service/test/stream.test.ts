// The delivery path end to end, against real Redis and real sockets: what a browser sees.
import { describe, expect, it } from 'vitest';
import { perTest } from '#test-support/per-test';
import type { SseTestClient } from '#test-support/sse-client';
import { eventually, publish, testStream, token } from '#test-support/instance';

const { instance, open } = perTest();

describe('the realtime stream', () => {
  it('delivers a published event with its stream id, action and JSON payload', async () => {
    const service = await instance();
    const admin = await token('admin');
    const producer = await token('producer');
    const client = await open(service.url, { token: admin });

    const response = await publish(service.url, producer, {
      matchId: 'm-1',
      action: 'match:updated',
      data: { score: [1, 0] },
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };

    await client.waitForEvents(1);
    const [received] = client.streamEvents;
    expect(received?.id).toBe(id);
    expect(received?.event).toBe('match:updated');
    const payload = JSON.parse(received?.data ?? '{}') as Record<string, unknown>;
    expect(payload).toMatchObject({ matchId: 'm-1', action: 'match:updated', data: { score: [1, 0] } });
    expect(new Date(payload.timestamp as string).toISOString()).toBe(payload.timestamp);
  });

  it('sends the retry hint and the stream headers on connect, and heartbeats while idle', async () => {
    const service = await instance(testStream(), { SSE_HEARTBEAT_INTERVAL_MS: '100' });
    const client = await open(service.url, { token: await token('admin') });
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toContain('no-cache');
    expect(client.headers['x-accel-buffering']).toBe('no');
    await eventually(() => client.retry !== undefined, 'the retry hint');
    expect(client.retry).toBe(5000);
    await eventually(
      () => client.comments.filter((comment) => comment.trim() === 'heartbeat').length >= 2,
      'two heartbeats',
    );
  });

  it('broadcasts: clients on two instances of one stream both receive every event', async () => {
    const stream = testStream();
    const [first, second] = [await instance(stream), await instance(stream)];
    const admin = await token('admin');
    const [onFirst, onSecond] = [await open(first.url, { token: admin }), await open(second.url, { token: admin })];
    const producer = await token('producer');
    const published: string[] = [];
    for (let i = 0; i < 40; i++) {
      const target = i % 2 === 0 ? first : second;
      const response = await publish(target.url, producer, {
        matchId: `m-${i % 3}`,
        action: 'match:updated',
        data: { n: i },
      });
      published.push(((await response.json()) as { id: string }).id);
    }
    await onFirst.waitForEvents(40);
    await onSecond.waitForEvents(40);
    expect(onFirst.ids).toEqual(published);
    expect(onSecond.ids).toEqual(published);
  });

  it('delivers only the rooms a client follows, and only rooms its token grants', async () => {
    const service = await instance();
    const producer = await token('producer');
    const user = await token('user', ['room-a', 'room-b']);
    const followsA = await open(service.url, { token: user, query: { matchId: 'room-a' } });
    const followsAll = await open(service.url, { token: user });
    const denied = await open(service.url, { token: user, query: { matchId: ['room-a', 'room-c'] } });
    expect(denied.status).toBe(403);

    for (const matchId of ['room-a', 'room-b', 'room-c'])
      await publish(service.url, producer, { matchId, action: 'match:updated' });
    await followsAll.waitForEvents(2);
    await followsA.waitForEvents(1);
    await publish(service.url, producer, { matchId: 'room-a', action: 'match:deleted' });
    await followsA.waitForEvents(2);
    const matchIds = (client: SseTestClient) =>
      client.streamEvents.map((event) => (JSON.parse(event.data) as { matchId: string }).matchId);
    expect(matchIds(followsA)).toEqual(['room-a', 'room-a']);
    expect(matchIds(followsAll).slice(0, 2)).toEqual(['room-a', 'room-b']);
  });
});

describe('tokens on the stream', () => {
  it('accepts the token as ?access_token= (EventSource cannot set headers) and as a cookie', async () => {
    const service = await instance();
    const admin = await token('admin');
    const byQuery = await open(service.url, { query: { access_token: admin } });
    const byCookie = await open(service.url, { headers: { cookie: `access_token=${admin}` } });
    const without = await open(service.url, {});
    expect([byQuery.status, byCookie.status, without.status]).toEqual([200, 200, 401]);
  });

  it('limits connection attempts per identity, not per server: the fourth of three allowed is a 429 to a JSON client', async () => {
    const service = await instance(testStream(), { SSE_MAX_CONNECT_PER_MINUTE: '3' });
    const alice = await token('admin', [], { sub: 'alice' });
    const attempts: SseTestClient[] = [];
    for (let i = 0; i < 4; i++)
      attempts.push(await open(service.url, { token: alice, headers: { accept: 'application/json' } }));
    const statuses = attempts.map((attempt) => attempt.status ?? 0);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = attempts.at(-1) as SseTestClient;
    expect(JSON.parse(limited.body)).toMatchObject({ error: 'Too Many Requests' });
    expect((await open(service.url, { token: await token('admin', [], { sub: 'bob' }) })).status).toBe(200);
  });

  it('closes the stream when its token expires', async () => {
    const service = await instance();
    const client = await open(service.url, { token: await token('admin', [], { expiresIn: '2s' }) });
    expect(client.status).toBe(200);
    await eventually(() => client.ended, 'the stream to end at token expiry', 5000);
    expect(service.app.realtime.fanout.size).toBe(0);
  });
});

describe('resuming with Last-Event-ID', () => {
  for (const via of ['header', 'query'] as const) {
    it(`a client resuming by ${via} during a live flood receives every event it missed, once, in order`, async () => {
      const service = await instance();
      const admin = await token('admin');
      const { bus } = service.app.realtime;
      const ids: string[] = [];
      const emit = async (n: number) =>
        ids.push((await bus.emitRealtimeEvent({ matchId: 'm-flood', action: 'match:updated', data: { n } })).id);

      for (let n = 0; n < 300; n++) await emit(n);
      const resumeFrom = ids[99] as string;
      // Keep publishing while the client reconnects, so catch-up and live delivery overlap.
      let n = 300;
      const flood = (async () => {
        while (n < 900) await emit(n++);
      })();
      const client = await open(
        service.url,
        via === 'header'
          ? { token: admin, lastEventId: resumeFrom }
          : { token: admin, query: { lastEventId: resumeFrom } },
      );
      await flood;
      await client.waitForEvents(800);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(client.ids).toEqual(ids.slice(100));
      expect(new Set(client.ids).size).toBe(client.ids.length);
    });
  }

  it('a resume point trimmed out of the stream gets resync first, then live events', async () => {
    const service = await instance(testStream(), { REALTIME_STREAM_MAXLEN: '10' });
    const { bus } = service.app.realtime;
    const first = await bus.emitRealtimeEvent({ matchId: 'm', action: 'match:updated' });
    // XADD MAXLEN ~ trims whole radix nodes (100 entries by default): write well past that.
    for (let i = 0; i < 400; i++) await bus.emitRealtimeEvent({ matchId: 'm', action: 'match:updated' });
    expect(await bus.resumeCoverage(first.id)).toBe('trimmed');
    // The instance's reader pauses between reads (REALTIME_STREAM_READ_LINGER_MS): once its
    // group has read and acknowledged everything, whatever the client gets after connecting is live.
    const last = await bus.emitRealtimeEvent({ matchId: 'other', action: 'match:updated' });
    await eventually(async () => {
      const groups = (await bus.redis.call('XINFO', 'GROUPS', service.config.stream.key)) as unknown[][];
      const group = groups.find((fields) => fields[1] === service.config.stream.group) ?? [];
      const field = (name: string) => group[group.indexOf(name) + 1];
      return field('last-delivered-id') === last.id && field('pending') === 0;
    }, 'the reader to catch up');

    const client = await open(service.url, { token: await token('admin'), lastEventId: first.id });
    const resync = await client.waitForEvent('resync');
    expect(JSON.parse(resync.data)).toMatchObject({ action: 'resync', reason: 'resume_point_trimmed' });
    const live = await bus.emitRealtimeEvent({ matchId: 'm', action: 'match:created' });
    await client.waitForEvents(1);
    expect(client.ids).toEqual([live.id]);
    expect(client.events[0]?.event).toBe('resync');
  });

  it('a resume point from another stream (beyond its last id) gets resync', async () => {
    const service = await instance();
    await service.app.realtime.bus.emitRealtimeEvent({ matchId: 'm', action: 'match:updated' });
    const client = await open(service.url, {
      token: await token('admin'),
      lastEventId: `${Date.now() + 86_400_000}-0`,
    });
    const resync = await client.waitForEvent('resync');
    expect(JSON.parse(resync.data)).toMatchObject({ reason: 'unknown_resume_point' });
  });

  it('a malformed Last-Event-ID is a 400 with a JSON error', async () => {
    const service = await instance();
    const client = await open(service.url, { token: await token('admin'), lastEventId: 'not-an-id' });
    expect(client.status).toBe(400);
    expect(JSON.parse(client.body)).toMatchObject({ error: 'Bad Request' });
  });
});
