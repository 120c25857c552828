// Requests Node's parser refuses before any route runs still get the one JSON error shape:
// headers over 16 KB (a 431), and bytes that are not HTTP (a 400). The instance serves on.
import { describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { perTest } from '#test-support/per-test';
import { token } from '#test-support/instance';

const { instance } = perTest();

/** Sends `raw` on a fresh connection and returns everything the server wrote before closing. */
function exchange(url: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), hostname, () => socket.write(raw));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

function parse(answer: string): { status: number; headers: string; body: unknown } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(body) };
}

describe('requests refused while parsing', () => {
  it('headers over 16 KB get a 431 with the JSON error shape, on the stream route and the API alike', async () => {
    const service = await instance();
    const bearer = await token('admin');
    for (const path of ['/api/realtime/stream', '/api/matches']) {
      const answer = parse(
        await exchange(
          service.url,
          `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${bearer}\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`,
        ),
      );
      expect(answer.status).toBe(431);
      expect(answer.headers).toContain('content-type: application/json');
      expect(answer.headers).toContain('x-content-type-options: nosniff');
      expect(Object.keys(answer.body as object).sort()).toEqual(['error', 'message']);
      expect(answer.body).toMatchObject({ error: 'Request Header Fields Too Large' });
    }
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });

  it('bytes that are not HTTP get a 400 with the JSON error shape', async () => {
    const service = await instance();
    const answer = parse(await exchange(service.url, 'HELLO\x00THERE\r\n\r\n'));
    expect(answer.status).toBe(400);
    expect(Object.keys(answer.body as object).sort()).toEqual(['error', 'message']);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });
});
