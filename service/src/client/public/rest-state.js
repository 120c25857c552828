// The REST state the client loads at start, after `resync`, and polls while the stream is
// down: the operations notes name /api/matches?cache=refresh and
// /api/users/profile?fullHistory=false. cache=refresh skips the instance's short cache, so a
// poll never shows state older than the events already on screen.

/**
 * What the page shows of the REST state: the matches and who is signed in.
 * @typedef {{ matches: unknown[], profile: { id: string, role: string, [field: string]: unknown } }} RealtimeState
 */

export class RestError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.name = 'RestError';
    this.status = status;
  }
}

/**
 * @param {string} baseUrl
 * @param {string} path
 * @param {string | undefined} token
 * @param {typeof fetch} fetchImpl
 * @returns {Promise<any>} the JSON body, as the service sent it
 */
async function getJson(baseUrl, path, token, fetchImpl) {
  // Without a token the browser still sends the same-origin access_token cookie.
  /** @type {Record<string, string>} */
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response = await fetchImpl(new URL(path, baseUrl), { headers, cache: 'no-store' });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new RestError(response.status, `${path}: ${response.status} ${body.message ?? response.statusText}`);
  }
  return response.json();
}

/**
 * Fetches both resources in parallel: `{ matches, profile }`.
 * @param {{ baseUrl: string, token?: string | undefined, fetchImpl?: typeof fetch }} options
 * @returns {Promise<RealtimeState>}
 */
export async function fetchRealtimeState({ baseUrl, token, fetchImpl = globalThis.fetch.bind(globalThis) }) {
  const [list, profile] = await Promise.all([
    getJson(baseUrl, '/api/matches?cache=refresh', token, fetchImpl),
    getJson(baseUrl, '/api/users/profile?fullHistory=false', token, fetchImpl),
  ]);
  return { matches: list.matches, profile };
}
