// The REST state the client loads at start, after `resync`, and polls while the stream is
// down: the operations notes name /api/matches?cache=refresh and
// /api/users/profile?fullHistory=false. cache=refresh skips the instance's short cache, so a
// poll never shows state older than the events already on screen.

export class RestError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'RestError';
    this.status = status;
  }
}

async function getJson(baseUrl, path, token, fetchImpl) {
  // Without a token the browser still sends the same-origin access_token cookie.
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response = await fetchImpl(new URL(path, baseUrl), { headers, cache: 'no-store' });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new RestError(response.status, `${path}: ${response.status} ${body.message ?? response.statusText}`);
  }
  return response.json();
}

/** Fetches both resources in parallel: `{ matches, profile }`. */
export async function fetchRealtimeState({ baseUrl, token, fetchImpl = globalThis.fetch.bind(globalThis) }) {
  const [list, profile] = await Promise.all([
    getJson(baseUrl, '/api/matches?cache=refresh', token, fetchImpl),
    getJson(baseUrl, '/api/users/profile?fullHistory=false', token, fetchImpl),
  ]);
  return { matches: list.matches, profile };
}
