// Tokens never reach the logs: EventSource clients put theirs in the query string, so the
// request log masks it.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { testConfig, testStream, token } from '#test-support/instance';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(chunk.toString());
    done();
  },
});
const app = await buildApp(testConfig(testStream()), pino({ level: 'info' }, sink));
afterAll(() => app.close());

describe('request logs', () => {
  it('mask access_token in the logged URL and keep the rest', async () => {
    // A producer token: refused on the stream (403) before the socket is taken over.
    const secretToken = await token('producer');
    const response = await app.inject({
      method: 'GET',
      url: `/api/realtime/stream?matchId=m-1&access_token=${secretToken}`,
    });
    expect(response.statusCode).toBe(403);
    const logged = lines.join('');
    expect(logged).toContain('/api/realtime/stream?matchId=m-1&access_token=[redacted]');
    expect(logged).not.toContain(secretToken);
  });
});
