// An SSE stream for the Node runner, shaped like xk6-sse's: messages are handed to one
// handler as { id, name, data }; the handler can pause reading (the socket then fills, as
// behind a slow client) and close the stream. Built on node:http and eventsource-parser.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { createParser } from 'eventsource-parser';
import type { StreamMessage } from '../room.js';

export interface StreamControl {
  /** Stops reading the socket for `ms` milliseconds. */
  pause(ms: number): void;
  close(): void;
}

export interface StreamOutcome {
  readonly status: number;
  /** Why the stream ended: closed by the handler, ended by the server, or failed. */
  readonly ended: 'closed' | 'server' | 'error';
  readonly error?: string;
}

/**
 * Opens `url` and feeds each message to `onMessage` until the handler closes the stream,
 * the server ends it, or `deadlineMs` (epoch ms) passes. Resolves once the stream is done.
 */
export function openStream(
  url: string,
  token: string,
  onMessage: (message: StreamMessage, control: StreamControl) => void,
  deadlineMs: number,
): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    let response: IncomingMessage | undefined;
    let settled = false;
    let resumeTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: StreamOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(resumeTimer);
      req.destroy();
      resolve(outcome);
    };
    const control: StreamControl = {
      pause: (ms) => {
        response?.pause();
        resumeTimer = setTimeout(() => response?.resume(), ms);
      },
      close: () => finish({ status: response?.statusCode ?? 0, ended: 'closed' }),
    };
    const parser = createParser({
      onEvent: (event) => {
        if (!settled) onMessage({ id: event.id, name: event.event, data: event.data }, control);
      },
    });
    const req: ClientRequest = request(
      url,
      { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` }, agent: false },
      (res) => {
        response = res;
        res.setEncoding('utf8');
        if (res.statusCode !== 200) {
          let body = '';
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () =>
            finish({
              status: res.statusCode ?? 0,
              ended: 'error',
              error: `status ${res.statusCode}: ${body.slice(0, 200)}`,
            }),
          );
          return;
        }
        res.on('data', (chunk: string) => parser.feed(chunk));
        res.on('end', () => finish({ status: 200, ended: 'server' }));
        res.on('error', (error) => finish({ status: 200, ended: 'error', error: error.message }));
      },
    );
    req.on('error', (error) => finish({ status: response?.statusCode ?? 0, ended: 'error', error: error.message }));
    req.end();
    const deadline = setTimeout(
      () =>
        finish({
          status: response?.statusCode ?? 0,
          ended: 'error',
          error: 'deadline passed before the stream was done',
        }),
      Math.max(0, deadlineMs - Date.now()),
    );
  });
}
