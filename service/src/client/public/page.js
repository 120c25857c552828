// The live page (GET /): lists the matches, applies stream events as they arrive, and shows
// the connection state, with the polling banner the operations notes ask for.
//
// Where the token comes from, first match wins:
//  1. a URL fragment `#access_token=<jwt>` from the embedding app (fragments never reach
//     servers or logs); it is kept in sessionStorage for reloads and removed from the address bar.
//     The app renews it by posting `{ type: 'trayb-realtime:access-token', token }` to the
//     page's window from the page's own origin: the service's headers let only same-origin
//     pages frame it (frame-ancestors 'self') or keep a handle on it (Cross-Origin-Opener-
//     Policy), so the app embeds it from a shell on the same host. The stream, which ends
//     when the old token expires, reconnects with the new one;
//  2. in local development (the service marks the page when GET /api/dev/token exists), a
//     short-lived admin token minted by the service, renewed before it expires;
//  3. otherwise none: the browser sends the embedding app's same-origin `access_token`
//     cookie with every request, and the service reads it there.
import { createLiveClient } from './live-client.js';
import { applyEvent, applySnapshot, emptyBoard, matchesOf } from './match-board.js';
import { fetchRealtimeState } from './rest-state.js';
import { policyFrom } from './stream-state.js';

/**
 * @typedef {import('./live-client.js').LiveStatus} LiveStatus
 * @typedef {import('./match-board.js').Board} Board
 * @typedef {import('./stream-state.js').StreamEvent} StreamEvent
 * @typedef {{ token: string, renewAt: number }} DevToken
 */

const TOKEN_KEY = 'trayb-realtime:accessToken';
const TOKEN_MESSAGE = 'trayb-realtime:access-token';
const EVENT_LOG_LIMIT = 50;
const RENEW_BEFORE_MS = 60_000;

/**
 * An element of the page; index.html holds every one this script asks for.
 * @param {string} selector
 */
const $ = (selector) => /** @type {HTMLElement} */ (document.querySelector(selector));

function fragmentToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('access_token');
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** Takes renewed tokens posted by the embedding app, from this page's origin only. */
function acceptTokenRenewals() {
  window.addEventListener('message', (event) => {
    if (event.origin !== location.origin) return;
    const { type, token } = event.data ?? {};
    if (type === TOKEN_MESSAGE && typeof token === 'string' && token !== '') sessionStorage.setItem(TOKEN_KEY, token);
  });
}

/** @returns {Promise<DevToken>} */
async function mintDevToken() {
  const response = await fetch('/api/dev/token?role=admin&sub=live-page', { cache: 'no-store' });
  if (!response.ok) throw new Error(`GET /api/dev/token answered ${response.status}`);
  const { token, expiresIn } = await response.json();
  return { token, renewAt: Date.now() + Math.max(expiresIn * 1000 - RENEW_BEFORE_MS, 5_000) };
}

function devTokenSource() {
  // One request in flight at a time: the stream and the REST refresh ask together at start.
  /** @type {DevToken | undefined} */
  let minted;
  /** @type {Promise<DevToken> | undefined} */
  let pending;
  return async () => {
    if (minted !== undefined && Date.now() < minted.renewAt) return minted.token;
    pending ??= mintDevToken().finally(() => {
      pending = undefined;
    });
    minted = await pending;
    return minted.token;
  };
}

/** @returns {{ how: string, getToken: () => Promise<string | undefined> }} */
function chooseToken() {
  const fromFragment = fragmentToken();
  if (fromFragment !== undefined) {
    acceptTokenRenewals();
    return {
      how: 'token from the page address',
      getToken: async () => sessionStorage.getItem(TOKEN_KEY) ?? fromFragment,
    };
  }
  const devTokens = /** @type {HTMLMetaElement | null} */ (document.querySelector('meta[name="trayb-dev-tokens"]'));
  if (devTokens?.content === 'on') return { how: 'development token', getToken: devTokenSource() };
  return { how: 'session cookie', getToken: async () => undefined };
}

/**
 * @param {string} text
 * @param {string} [className]
 */
function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/**
 * @param {Board} board
 * @param {string} [changedId] the match an event just changed, highlighted
 */
function renderMatches(board, changedId) {
  const body = $('#matches tbody');
  const rows = matchesOf(board).map(({ match, lastEvent }) => {
    const tr = document.createElement('tr');
    tr.dataset.matchId = match.id;
    if (match.id === changedId) tr.className = 'changed';
    const scored = /** @type {{ score?: { home?: unknown, away?: unknown } | null }} */ (match);
    const score = scored.score && typeof scored.score === 'object' ? `${scored.score.home} – ${scored.score.away}` : '';
    const changed = lastEvent
      ? `${lastEvent.action} at ${new Date(lastEvent.at).toLocaleTimeString()}`
      : `changed at ${new Date(match.updatedAt).toLocaleTimeString()}`;
    tr.append(
      cell(String(match.title ?? match.id)),
      cell(String(match.status ?? '')),
      cell(score, 'score'),
      cell(changed),
    );
    return tr;
  });
  body.replaceChildren(...rows);
  $('#no-matches').hidden = rows.length > 0;
}

/**
 * @param {StreamEvent} event
 * @param {string} id
 */
function logEvent(event, id) {
  const item = document.createElement('li');
  item.dataset.eventId = id;
  item.textContent = `${id}  ${event.action}  ${event.matchId}`;
  const log = $('#events');
  log.prepend(item);
  while (log.children.length > EVENT_LOG_LIMIT) log.lastElementChild?.remove();
}

/** @param {number} ms */
function seconds(ms) {
  const value = Math.max(0, ms) / 1000;
  return `${value < 10 ? Number(value.toFixed(1)) : Math.round(value)} s`;
}

/** @param {LiveStatus} status */
function renderStatus(status) {
  const line = $('#connection');
  line.dataset.mode = status.mode;
  const nextAttempt =
    status.nextAttemptAt === null ? '' : `; next stream attempt in ${seconds(status.nextAttemptAt - Date.now())}`;
  const text = {
    connecting: 'Connecting…',
    live: 'Live',
    reconnecting: `Reconnecting${nextAttempt}`,
    polling: 'Polling',
  }[status.mode];
  line.textContent = text ?? status.mode;

  const banner = $('#banner');
  banner.hidden = status.mode !== 'polling';
  if (status.mode === 'polling') {
    const last =
      status.lastPollAt === null ? 'not polled yet' : `last poll ${new Date(status.lastPollAt).toLocaleTimeString()}`;
    $('#banner-detail').textContent =
      `The stream failed ${status.consecutiveFailures} times in a row. Refreshing every ${seconds(status.pollIntervalMs)} (${last})${nextAttempt}.`;
  }
  const error = $('#error');
  error.hidden = status.lastError === null;
  error.textContent = status.lastError === null ? '' : `Last problem: ${status.lastError}`;
}

function main() {
  const params = new URLSearchParams(location.search);
  const policy = policyFrom(params);
  const { how, getToken } = chooseToken();
  let board = emptyBoard();

  const client = createLiveClient({
    getToken,
    policy,
    onEvent(event, id) {
      board = applyEvent(board, event);
      renderMatches(board, event.matchId);
      logEvent(event, id);
    },
    async onRefresh() {
      const requestedAt = board.seq;
      const { matches, profile } = await fetchRealtimeState({ baseUrl: location.origin, token: await getToken() });
      board = applySnapshot(board, matches, requestedAt);
      renderMatches(board);
      $('#identity').textContent = `Signed in as ${profile.id} (${profile.role}) with a ${how}`;
    },
    onStatus: renderStatus,
  });
  client.start();
  // The countdown in the status line moves even when nothing else happens.
  setInterval(() => renderStatus(client.status()), 1000);
  // Exposed for the browser tests and for poking at from the devtools console.
  /** @type {Window & { traybLive?: unknown }} */ (window).traybLive = { client, board: () => board };
}

main();
