// The operations notes' first smoke test, word for word: `curl -H "Accept: text/event-stream"
// http://localhost:4001/api/realtime/stream` is refused (auth is on), and on the development
// server the refusal itself says how to get a token in one step. Production says no more
// than that a token is required.
import { describe, expect, it } from 'vitest';
import { perTest } from '#test-support/per-test';

const { instance } = perTest();
const streamRequest = { headers: { accept: 'text/event-stream' } };

describe('a stream request without a token', () => {
  it('on the development server, gets a 401 whose message leads to a working token', async () => {
    const dev = await instance(undefined, { AUTH_DEV_TOKENS: 'true' });
    const refused = await fetch(`${dev.url}/api/realtime/stream`, streamRequest);
    expect(refused.status).toBe(401);
    const { message } = (await refused.json()) as { message: string };
    const command = /curl -s '([^']+)'/.exec(message);
    expect(command, message).not.toBeNull();

    const { token } = (await (await fetch(command?.[1] ?? '')).json()) as { token: string };
    const controller = new AbortController();
    const accepted = await fetch(`${dev.url}/api/realtime/stream`, {
      headers: { ...streamRequest.headers, authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    expect(accepted.status).toBe(200);
    expect(accepted.headers.get('content-type')).toMatch(/^text\/event-stream/);
    controller.abort();
  });

  it('in production, gets a 401 that only says a token is required', async () => {
    const prod = await instance();
    const refused = await fetch(`${prod.url}/api/realtime/stream`, streamRequest);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'Unauthorized', message: 'a bearer token is required' });
  });
});
