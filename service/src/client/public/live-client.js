// The browser's connection to the realtime service: an EventSource on /api/realtime/stream
// that resumes from the last event id (kept in sessionStorage, so a reload resumes too),
// refetches the REST state on `resync`, reconnects after the hint on `shutdown`, and after
// repeated failures polls the REST state while it keeps retrying the stream with backoff.
//
// Reconnection is done here, not by EventSource itself: the browser gives up for good on an
// HTTP error status (401, 429, 503), its own retries reuse the first URL (a stale token, a
// stale ?lastEventId=) and it does not report the attempts it makes. So every error closes
// the EventSource, and the policy in stream-state.js decides when to try again. A stream the
// service turns away for now (a limit, a full instance) opens and carries only a `refused`
// event: that is a failed attempt, retried no sooner than the event says.
import {
  DEFAULT_POLICY,
  STREAM_EVENTS,
  eventReceived,
  initialState,
  shutdownAnnounced,
  streamFailed,
  streamOpened,
} from './stream-state.js';

/**
 * @typedef {import('./stream-state.js').Policy} Policy
 * @typedef {import('./stream-state.js').StreamState} StreamState
 * @typedef {import('./stream-state.js').StreamEvent} StreamEvent
 */

/**
 * What the page shows of the connection: the stream state, polling, the next attempt, the
 * last problem and counts of what happened.
 * @typedef {StreamState & {
 *   readonly polling: boolean,
 *   readonly nextAttemptAt: number | null,
 *   readonly lastPollAt: number | null,
 *   readonly lastError: string | null,
 *   readonly pollIntervalMs: number,
 *   readonly counts: { attempts: number, opens: number, failures: number, duplicates: number, polls: number, resyncs: number },
 * }} LiveStatus
 */

/**
 * The part of the browser's EventSource the client uses (tests hand in a scripted one).
 * @typedef {{
 *   addEventListener(type: string, listener: (message: { data: string, lastEventId: string }) => void): void,
 *   close(): void,
 * }} EventSourceLike
 */

/** @typedef {{ setTimeout(callback: () => void, ms: number): unknown, clearTimeout(id: unknown): void }} Timers */

/**
 * @typedef {{
 *   baseUrl?: string,
 *   streamPath?: string,
 *   getToken?: () => Promise<string | undefined>,
 *   onEvent?: (event: StreamEvent, id: string) => void,
 *   onRefresh?: (reason: 'initial' | 'resync' | 'poll' | 'reconnected') => Promise<void>,
 *   onStatus?: (status: LiveStatus) => void,
 *   policy?: Policy,
 *   matchIds?: readonly string[],
 *   storage?: { getItem(key: string): string | null, setItem(key: string, value: string): void } | undefined,
 *   EventSourceImpl?: new (url: string) => EventSourceLike,
 *   timers?: Timers,
 *   random?: () => number,
 * }} LiveClientOptions
 */

export const LAST_EVENT_ID_KEY = 'trayb-realtime:lastEventId';

/** @param {string} text */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * options:
 *  - baseUrl: the service origin (the page's own by default)
 *  - getToken(): async, the bearer token for the next request, or undefined to rely on the
 *    access_token cookie
 *  - onEvent(event, id): a new stream event (duplicates are already dropped)
 *  - onRefresh(reason): async, reload the REST state ('initial' | 'resync' | 'poll' | 'reconnected')
 *  - onStatus(status): the connection state changed (mode, failures, next attempt, errors)
 *  - policy: see DEFAULT_POLICY; matchIds: rooms to follow (all allowed ones by default)
 *  - storage, EventSourceImpl, timers, random: injectable for tests
 * @param {LiveClientOptions} options
 * @returns {{ start(): void, stop(): void, status(): LiveStatus }}
 */
export function createLiveClient(options) {
  const {
    baseUrl = globalThis.location?.origin,
    streamPath = '/api/realtime/stream',
    getToken = async () => undefined,
    onEvent,
    onRefresh = async () => undefined,
    onStatus = () => undefined,
    policy = DEFAULT_POLICY,
    matchIds = [],
    storage = globalThis.sessionStorage,
    EventSourceImpl = globalThis.EventSource,
    timers = /** @type {Timers} */ (globalThis),
    random = Math.random,
  } = options;

  const stored = (() => {
    try {
      return storage?.getItem(LAST_EVENT_ID_KEY) ?? null;
    } catch {
      return null;
    }
  })();
  let state = initialState(stored);
  /** @type {EventSourceLike | null} */
  let source = null;
  /** @type {unknown} a timer id, or null */
  let retryTimer = null;
  /** @type {number | null} */
  let nextAttemptAt = null;
  let pollGeneration = 0;
  /** @type {unknown} a timer id, or null */
  let pollTimer = null;
  let polling = false;
  /** @type {number | null} */
  let lastPollAt = null;
  /** @type {string | null} */
  let lastError = null;
  let stopped = false;
  const counts = { attempts: 0, opens: 0, failures: 0, duplicates: 0, polls: 0, resyncs: 0 };

  /** @returns {LiveStatus} */
  function status() {
    return {
      ...state,
      polling,
      nextAttemptAt,
      lastPollAt,
      lastError,
      counts: { ...counts },
      pollIntervalMs: policy.pollIntervalMs,
    };
  }
  const report = () => onStatus(status());

  /** @param {string} id */
  function remember(id) {
    try {
      storage?.setItem(LAST_EVENT_ID_KEY, id);
    } catch {
      // Storage full or disabled: resume still works within this page's lifetime.
    }
  }

  /** @param {'initial' | 'resync' | 'poll' | 'reconnected'} reason */
  async function refresh(reason) {
    try {
      await onRefresh(reason);
      if (lastError?.startsWith('refresh')) lastError = null;
    } catch (error) {
      lastError = `refresh (${reason}) failed: ${/** @type {Error} */ (error).message}`;
    }
    report();
  }

  function startPolling() {
    if (polling) return;
    polling = true;
    const generation = ++pollGeneration;
    const tick = async () => {
      pollTimer = null;
      if (stopped || generation !== pollGeneration) return;
      await refresh('poll');
      counts.polls += 1;
      lastPollAt = Date.now();
      if (!stopped && generation === pollGeneration) pollTimer = timers.setTimeout(tick, policy.pollIntervalMs);
      report();
    };
    void tick();
  }

  function stopPolling() {
    polling = false;
    pollGeneration += 1;
    if (pollTimer !== null) timers.clearTimeout(pollTimer);
    pollTimer = null;
  }

  function closeSource() {
    if (source === null) return;
    source.close();
    source = null;
  }

  /** @param {number} delayMs */
  function scheduleAttempt(delayMs) {
    if (stopped) return;
    if (retryTimer !== null) timers.clearTimeout(retryTimer);
    nextAttemptAt = Date.now() + delayMs;
    retryTimer = timers.setTimeout(() => void connect(), delayMs);
  }

  /**
   * @param {string} reason
   * @param {number} [atLeastMs] the service's own wait, when it named one
   */
  function failed(reason, atLeastMs = 0) {
    counts.failures += 1;
    lastError = reason;
    const next = streamFailed(state, policy, random);
    state = next.state;
    // Polling starts on the threshold and continues across the background retries.
    if (state.mode === 'polling') startPolling();
    scheduleAttempt(Math.max(next.retryInMs, atLeastMs));
    report();
  }

  /**
   * @param {EventSourceLike} es
   * @param {{ data: string, lastEventId: string }} message
   */
  function received(es, message) {
    if (source !== es) return;
    // Every stream event has an id; dedupe drops anything at or before the resume point.
    const next = eventReceived(state, message.lastEventId);
    if (!next.fresh) {
      counts.duplicates += 1;
      return;
    }
    state = next.state;
    remember(message.lastEventId);
    const event = parseJson(message.data);
    if (event !== undefined) onEvent?.(event, message.lastEventId);
  }

  async function connect() {
    retryTimer = null;
    nextAttemptAt = null;
    if (stopped) return;
    counts.attempts += 1;
    /** @type {string | undefined} */
    let token;
    try {
      token = await getToken();
    } catch (error) {
      failed(`no token: ${/** @type {Error} */ (error).message}`);
      return;
    }
    if (stopped) return;
    const url = new URL(streamPath, baseUrl);
    if (token !== undefined) url.searchParams.set('access_token', token);
    if (state.lastEventId !== null) url.searchParams.set('lastEventId', state.lastEventId);
    for (const matchId of matchIds) url.searchParams.append('matchId', matchId);

    closeSource();
    const es = new EventSourceImpl(url.href);
    source = es;
    /** The state before this stream opened: a refusal turns out not to have been a stream. */
    let beforeOpen = state;
    es.addEventListener('open', () => {
      if (source !== es) return;
      beforeOpen = state;
      const recovering = state.mode !== 'connecting';
      counts.opens += 1;
      state = streamOpened(state);
      lastError = null;
      stopPolling();
      report();
      // Without a resume point the stream only brings what happens from now on.
      if (recovering && state.lastEventId === null) void refresh('reconnected');
    });
    es.addEventListener('error', () => {
      if (source !== es) return;
      closeSource();
      failed('the stream failed or closed');
    });
    for (const action of STREAM_EVENTS) es.addEventListener(action, (message) => received(es, message));
    es.addEventListener('resync', () => {
      if (source !== es) return;
      counts.resyncs += 1;
      void refresh('resync');
    });
    es.addEventListener('refused', (message) => {
      if (source !== es) return;
      closeSource();
      state = beforeOpen;
      const details = parseJson(message.data);
      const retryMs = typeof details?.retryMs === 'number' ? details.retryMs : 0;
      failed(`refused (${String(details?.status)}): ${String(details?.message)}`, retryMs);
    });
    es.addEventListener('shutdown', (message) => {
      if (source !== es) return;
      closeSource();
      const next = shutdownAnnounced(state, parseJson(message.data)?.retryMs, policy);
      state = next.state;
      scheduleAttempt(next.retryInMs);
      report();
    });
  }

  return {
    start() {
      report();
      void refresh('initial');
      void connect();
    },
    stop() {
      stopped = true;
      closeSource();
      stopPolling();
      if (retryTimer !== null) timers.clearTimeout(retryTimer);
      retryTimer = null;
      nextAttemptAt = null;
    },
    status,
  };
}
