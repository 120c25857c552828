// The one error shape of the HTTP API: `{ error, message }` with the right status code.
// Expected failures (validation, auth, unavailable Redis) are answered; anything else is a
// 500 that is logged with its stack and never leaks details.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AuthError } from '../auth/index.ts';
import { BusUnavailableError, InvalidEventError } from '../bus/index.ts';

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });

export class HttpError extends Error {
  readonly statusCode: number;
  /** For refusals that pass (429, 503): when to try again; sent as Retry-After. */
  readonly retryAfterMs: number | undefined;
  constructor(statusCode: number, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.retryAfterMs = retryAfterMs;
  }
}

export function errorBody(statusCode: number, message: string): { error: string; message: string } {
  return { error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/** The default wait announced with a 503 that names none. */
const UNAVAILABLE_RETRY_MS = 5000;

export interface KnownError {
  readonly statusCode: number;
  readonly message: string;
  readonly retryAfterMs?: number | undefined;
}

/** The answer an error deserves, or undefined for a fault of ours (a 500). */
export function classify(error: FastifyError | Error): KnownError | undefined {
  if (error instanceof AuthError || error instanceof HttpError)
    return { statusCode: error.statusCode, message: error.message, retryAfterMs: error.retryAfterMs };
  if (error instanceof InvalidEventError) return { statusCode: 400, message: error.message };
  if (error instanceof BusUnavailableError)
    return {
      statusCode: 503,
      message: 'the event stream is unavailable; retry shortly',
      retryAfterMs: UNAVAILABLE_RETRY_MS,
    };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation !== undefined) return { statusCode: 400, message: fastifyError.message };
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500)
    return { statusCode: status, message: fastifyError.message };
  return undefined;
}

/** Answers an error in the one JSON shape; every route's error handler ends here. */
export function sendError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // The stream route skips helmet for its long-lived 200; its refusals are ordinary JSON
  // answers and carry the security headers like every other.
  if (!reply.hasHeader('content-security-policy')) reply.helmet();
  const known = classify(error);
  if (known === undefined) {
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(errorBody(500, 'internal error'));
  }
  if (known.statusCode === 503) request.log.warn({ err: error }, 'dependency unavailable');
  if (known.retryAfterMs !== undefined && !reply.hasHeader('retry-after'))
    void reply.header('retry-after', String(Math.max(1, Math.ceil(known.retryAfterMs / 1000))));
  return reply.code(known.statusCode).send(errorBody(known.statusCode, known.message));
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(404, `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}

/** What Node's parser reports before any route runs, and the status it deserves. */
const CLIENT_ERRORS: Readonly<Record<string, { statusCode: number; message: string }>> = {
  HPE_HEADER_OVERFLOW: { statusCode: 431, message: 'request headers are larger than 16 KB' },
  ERR_HTTP_REQUEST_TIMEOUT: { statusCode: 408, message: 'the request took too long to arrive' },
};

/**
 * Requests Node refuses while parsing (headers over its 16 KB limit, a malformed request
 * line, a request too slow to arrive) never reach a route; they get the same JSON error
 * shape as every other refusal, written straight to the socket, which then closes.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { statusCode, message } = CLIENT_ERRORS[error.code ?? ''] ?? {
    statusCode: 400,
    message: 'the request could not be parsed as HTTP',
  };
  if (socket.writable) {
    const body = JSON.stringify(errorBody(statusCode, message));
    socket.write(
      `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}\r\n` +
        'content-type: application/json; charset=utf-8\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        'x-content-type-options: nosniff\r\n' +
        'cache-control: no-store\r\n' +
        'connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(error);
}
