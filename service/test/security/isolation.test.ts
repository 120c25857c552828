// Room isolation: a user reads the events of its own rooms and nothing else, live, after a
// resume on another instance, in the replay, in the REST history, and however it phrases
// the request (filters, resume points, a second token in the query).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseTestClient } from '#test-support/sse-client';
import { publish, startInstance, testConfig, testStream, token, type TestInstance } from '#test-support/instance';

let first: TestInstance;
let second: TestInstance;
const opened: SseTestClient[] = [];
beforeAll(async () => {
  const stream = testStream();
  [first, second] = [await startInstance(testConfig(stream)), await startInstance(testConfig(stream))];
});
afterAll(async () => {
  for (const client of opened) client.close();
  await Promise.all([first.close(), second.close()]);
});

async function open(url: string, options: Parameters<typeof SseTestClient.open>[1]): Promise<SseTestClient> {
  const client = await SseTestClient.open(url, options);
  opened.push(client);
  return client;
}

const roomsOf = (client: SseTestClient) =>
  new Set(client.streamEvents.map((event) => (JSON.parse(event.data) as { matchId: string }).matchId));

describe('room isolation', () => {
  it('live, after a resume on another instance and in the replay, a user sees only its rooms', async () => {
    const producer = await token('producer');
    const alice = await token('user', ['room-a'], { sub: 'alice' });
    const bob = await token('user', ['room-b'], { sub: 'bob' });
    const admin = await token('admin');
    const aliceLive = await open(first.url, { token: alice });
    const bobLive = await open(second.url, { token: bob });
    const adminLive = await open(first.url, { token: admin });

    const ids: Record<string, string[]> = { 'room-a': [], 'room-b': [], 'room-c': [] };
    for (let i = 0; i < 30; i++) {
      const room = ['room-a', 'room-b', 'room-c'][i % 3] as string;
      const response = await publish(i % 2 === 0 ? first.url : second.url, producer, {
        matchId: room,
        action: 'match:updated',
        data: { i },
      });
      ids[room]?.push(((await response.json()) as { id: string }).id);
    }
    await adminLive.waitForEvents(30);
    await aliceLive.waitForEvents(10);
    await bobLive.waitForEvents(10);
    expect(aliceLive.ids).toEqual(ids['room-a']);
    expect(bobLive.ids).toEqual(ids['room-b']);
    expect([...roomsOf(aliceLive)]).toEqual(['room-a']);

    // Alice resumes on the other instance from before everything: the replay holds her room only.
    const allIds = adminLive.ids;
    const aliceResumed = await open(second.url, { token: alice, lastEventId: '0-1' });
    await aliceResumed.waitForEvents(10);
    // A resume from the middle, by query, with an explicit filter of her own room.
    const aliceMid = await open(first.url, {
      token: alice,
      query: { lastEventId: allIds[14] as string, matchId: 'room-a' },
    });
    const after = (ids['room-a'] ?? []).filter((id) => allIds.indexOf(id) > 14);
    await aliceMid.waitForEvents(after.length);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(aliceResumed.ids).toEqual(ids['room-a']);
    expect(aliceMid.ids).toEqual(after);
    expect([...roomsOf(aliceResumed), ...roomsOf(aliceMid)].every((room) => room === 'room-a')).toBe(true);
  });

  it('asking for a room the token lacks is refused (403) in every phrasing, resume included', async () => {
    const alice = await token('user', ['room-a'], { sub: 'alice-2' });
    const admin = await token('admin');
    const attempts: Parameters<typeof SseTestClient.open>[1][] = [
      { token: alice, query: { matchId: 'room-b' } },
      { token: alice, query: { matchId: ['room-a', 'room-b'] } },
      { token: alice, query: { matchId: 'room-b' }, lastEventId: '0-1' },
      { token: alice, query: { matchId: 'ROOM-A' } },
      { token: alice, query: { matchId: 'room-a ' } },
    ];
    for (const attempt of attempts) {
      const client = await open(first.url, attempt);
      expect([400, 403], JSON.stringify(attempt?.query)).toContain(client.status);
      expect(client.status === 200).toBe(false);
    }
    // A second token in the query does not widen the one in the header: the header wins.
    const mixed = await open(first.url, { token: alice, query: { access_token: admin, matchId: 'room-b' } });
    expect(mixed.status).toBe(403);
  });

  it('room claims that look like wildcards match nothing but themselves', async () => {
    const producer = await token('producer');
    const wildcard = await open(first.url, { token: await token('user', ['*', '', 'room-*', '.*'], { sub: 'wild' }) });
    const admin = await open(first.url, { token: await token('admin') });
    const before = admin.streamEvents.length;
    for (const room of ['room-a', 'room-b', 'room-x'])
      await publish(first.url, producer, { matchId: room, action: 'match:updated' });
    await admin.waitForEvents(before + 3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(wildcard.status).toBe(200);
    expect(wildcard.streamEvents).toEqual([]);
  });

  it('the REST side keeps the same walls: matches, one match and profile history', async () => {
    const admin = await token('admin');
    for (const id of ['room-a', 'room-b']) {
      await first.app.inject({
        method: 'POST',
        url: '/api/matches',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ id, title: id }),
      });
    }
    const alice = await token('user', ['room-a'], { sub: 'alice-3' });
    const get = (url: string) =>
      first.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${alice}` } });
    expect((await get('/api/matches/room-b')).statusCode).toBe(403);
    expect(
      (await get('/api/matches?cache=refresh')).json<{ matches: { id: string }[] }>().matches.map((match) => match.id),
    ).toEqual(['room-a']);
    const profile = (await get('/api/users/profile?fullHistory=true')).json<{ history: { matchId: string }[] }>();
    expect(profile.history.length).toBeGreaterThan(0);
    expect(profile.history.every((entry) => entry.matchId === 'room-a')).toBe(true);
  });
});
