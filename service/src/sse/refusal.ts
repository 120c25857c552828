// Refusals on the stream route that pass with time: 429 (over a limit) and 503 (instance
// full, shutting down, Redis away). A browser's EventSource treats any answer but a 200 event
// stream as final and never reconnects, so a throttled tab would stay dead. A client that
// asks for an event stream therefore gets a 200 event stream that only says when to come
// back (`retry:`) and why (a `refused` control event, for clients that reconnect by
// themselves, like the live page), and ends at once: EventSource waits that long and
// reconnects on its own. Final refusals (400, 401, 403) keep their status, and a client that
// asks for JSON (or anything but an event stream) gets the JSON error with Retry-After.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { classify, sendError } from '../api/index.ts';
import { controlFrame, retryFrame } from './frames.ts';

export const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // Tells nginx-style proxies not to buffer the stream.
  'x-accel-buffering': 'no',
  'x-content-type-options': 'nosniff',
} as const;

/** Statuses that mean "not now": the client should come back later by itself. */
const PASSING = new Set([429, 503]);

/** True for EventSource and its kind: they send `Accept: text/event-stream`. */
export function wantsEventStream(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('text/event-stream') && !accept.includes('application/json');
}

/**
 * The delay announced to a refused client: at least `ms` (a limit's window must pass), and
 * up to half as long again at random, so the clients refused together do not return together.
 */
export function spreadRetry(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 + random() / 2));
}

/** The body of a passing refusal: the retry hint, then the `refused` event saying why. */
export function refusalBody(status: number, message: string, retryMs: number): string {
  return retryFrame(retryMs) + controlFrame('refused', { status, message, retryMs });
}

/**
 * The stream route's error handler; `retryMs` is the wait when the error names none. It
 * answers through `reply` (Fastify takes no value back from a route's error handler).
 */
export function streamErrorHandler(retryMs: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const known = classify(error);
    if (known === undefined || !PASSING.has(known.statusCode) || !wantsEventStream(request)) {
      void sendError(error, request, reply);
      return;
    }
    const waitMs = spreadRetry(known.retryAfterMs ?? retryMs);
    void reply
      .code(200)
      .header('retry-after', String(Math.ceil(waitMs / 1000)))
      .headers(STREAM_HEADERS)
      .send(refusalBody(known.statusCode, known.message, waitMs));
  };
}
