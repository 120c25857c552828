// The client shell with a scripted EventSource and fake timers: which URL each attempt
// uses, when polling starts and stops, what shutdown and resync do. The same code runs in
// Chromium in live-page.e2e.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LAST_EVENT_ID_KEY, createLiveClient, type EventSourceLike } from '../../src/client/public/live-client.js';
import { DEFAULT_POLICY } from '../../src/client/public/stream-state.js';

type Listener = (message: { data: string; lastEventId: string }) => void;

class ScriptedEventSource implements EventSourceLike {
  static opened: ScriptedEventSource[] = [];
  readonly url: URL;
  closed = false;
  readonly #listeners = new Map<string, Listener[]>();
  constructor(url: string) {
    this.url = new URL(url);
    ScriptedEventSource.opened.push(this);
  }
  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
  }
  emit(type: string, data: unknown = {}, lastEventId = ''): void {
    for (const listener of this.#listeners.get(type) ?? []) listener({ data: JSON.stringify(data), lastEventId });
  }
}

const latest = () => {
  const source = ScriptedEventSource.opened.at(-1);
  if (source === undefined) throw new Error('no EventSource was opened');
  return source;
};

function memoryStorage(initial: Record<string, string> = {}) {
  const values = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
    values,
  };
}

function setup(options: { storage?: ReturnType<typeof memoryStorage> } = {}) {
  const storage = options.storage ?? memoryStorage();
  const refreshes: string[] = [];
  const events: string[] = [];
  let tokens = 0;
  const client = createLiveClient({
    baseUrl: 'http://127.0.0.1:1',
    getToken: async () => `token-${++tokens}`,
    onEvent: (_event, id) => events.push(id),
    onRefresh: async (reason) => void refreshes.push(reason),
    policy: { ...DEFAULT_POLICY, jitter: 0 },
    storage,
    EventSourceImpl: ScriptedEventSource,
  });
  return { client, storage, refreshes, events };
}

beforeEach(() => {
  vi.useFakeTimers();
  ScriptedEventSource.opened = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the live client', () => {
  it('counts a refused stream as a failed attempt, even though it opened, and waits at least the refusal says', async () => {
    const { client, refreshes } = setup();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    for (let attempt = 1; attempt <= 3; attempt++) {
      latest().emit('open');
      latest().emit('refused', { action: 'refused', status: 429, message: 'slow down', retryMs: 10_000 });
      // And the error EventSource reports when the refusal's body ends changes nothing more.
      latest().emit('error');
      expect(latest().closed).toBe(true);
      expect(client.status()).toMatchObject({ consecutiveFailures: attempt });
      const opened = ScriptedEventSource.opened.length;
      // The backoff alone would retry after 1, 2 and 4 s; the refusal asked for 10.
      await vi.advanceTimersByTimeAsync(9_900);
      expect(ScriptedEventSource.opened).toHaveLength(opened);
      await vi.advanceTimersByTimeAsync(100);
      expect(ScriptedEventSource.opened).toHaveLength(opened + 1);
    }
    expect(client.status()).toMatchObject({ mode: 'polling', polling: true });
    expect(refreshes).toContain('poll');
    client.stop();
  });

  it('polls from the third consecutive failure, keeps retrying the stream with backoff, and stops polling when it opens', async () => {
    const { client, refreshes } = setup();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshes).toEqual(['initial']);

    latest().emit('error');
    expect(latest().closed).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    latest().emit('error');
    await vi.advanceTimersByTimeAsync(2000);
    expect(client.status()).toMatchObject({ mode: 'reconnecting', polling: false, consecutiveFailures: 2 });
    latest().emit('error');
    expect(client.status()).toMatchObject({ mode: 'polling', polling: true, consecutiveFailures: 3 });
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshes.filter((reason) => reason === 'poll')).toHaveLength(1);

    // Next stream attempt after 4 s; meanwhile polls every 5 s continue.
    await vi.advanceTimersByTimeAsync(4000);
    expect(ScriptedEventSource.opened).toHaveLength(4);
    latest().emit('error');
    await vi.advanceTimersByTimeAsync(8000);
    expect(ScriptedEventSource.opened).toHaveLength(5);
    expect(refreshes.filter((reason) => reason === 'poll')).toHaveLength(3);

    latest().emit('open');
    expect(client.status()).toMatchObject({ mode: 'live', polling: false, consecutiveFailures: 0 });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(refreshes.filter((reason) => reason === 'poll')).toHaveLength(3);
    client.stop();
  });

  it('delivers each event once, remembers the last id, and resumes from it after shutdown with a fresh token', async () => {
    const { client, storage, events } = setup();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    const first = latest();
    expect(first.url.searchParams.get('access_token')).toBe('token-1');
    expect(first.url.searchParams.has('lastEventId')).toBe(false);
    first.emit('open');
    first.emit('match:updated', { matchId: 'a', action: 'match:updated' }, '7-0');
    first.emit('match:updated', { matchId: 'a', action: 'match:updated' }, '7-0');
    first.emit('match:created', { matchId: 'b', action: 'match:created' }, '8-0');
    expect(events).toEqual(['7-0', '8-0']);
    expect(storage.values.get(LAST_EVENT_ID_KEY)).toBe('8-0');

    first.emit('shutdown', { action: 'shutdown', retryMs: 300 });
    expect(first.closed).toBe(true);
    expect(client.status()).toMatchObject({ mode: 'reconnecting', consecutiveFailures: 0 });
    await vi.advanceTimersByTimeAsync(299);
    expect(ScriptedEventSource.opened).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(latest().url.searchParams.get('lastEventId')).toBe('8-0');
    expect(latest().url.searchParams.get('access_token')).toBe('token-2');
    client.stop();
  });

  it('resumes a reloaded page from the id kept in storage', async () => {
    const { client } = setup({ storage: memoryStorage({ [LAST_EVENT_ID_KEY]: '42-1' }) });
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(latest().url.searchParams.get('lastEventId')).toBe('42-1');
    client.stop();
  });

  it('refetches the REST state on resync, and after a reconnect that has no resume point', async () => {
    const { client, refreshes } = setup();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    latest().emit('open');
    latest().emit('resync', { action: 'resync', reason: 'events_dropped' });
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshes).toEqual(['initial', 'resync']);
    latest().emit('error');
    await vi.advanceTimersByTimeAsync(1000);
    latest().emit('open');
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshes).toEqual(['initial', 'resync', 'reconnected']);
    client.stop();
  });

  it('ignores a stale EventSource once it was replaced', async () => {
    const { client, events } = setup();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    const stale = latest();
    stale.emit('error');
    await vi.advanceTimersByTimeAsync(1000);
    stale.emit('match:updated', { matchId: 'a' }, '1-0');
    stale.emit('error');
    expect(events).toEqual([]);
    expect(client.status().consecutiveFailures).toBe(1);
    client.stop();
  });
});
