// The one error shape of the HTTP API: `{ error, message }` with the right status code.
// Expected failures (validation, auth, unavailable Redis) are answered; anything else is a
// 500 that is logged with its stack and never leaks details.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AuthError } from '../auth/index.ts';
import { BusUnavailableError, InvalidEventError } from '../bus/index.ts';

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });

export class HttpError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
  }
}

export function errorBody(statusCode: number, message: string): { error: string; message: string } {
  return { error: STATUS_CODES[statusCode] ?? 'Error', message };
}

function classify(error: FastifyError | Error): { statusCode: number; message: string } | undefined {
  if (error instanceof AuthError || error instanceof HttpError)
    return { statusCode: error.statusCode, message: error.message };
  if (error instanceof InvalidEventError) return { statusCode: 400, message: error.message };
  if (error instanceof BusUnavailableError)
    return { statusCode: 503, message: 'the event stream is unavailable; retry shortly' };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation !== undefined) return { statusCode: 400, message: fastifyError.message };
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500)
    return { statusCode: status, message: fastifyError.message };
  return undefined;
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // The stream route skips helmet for its long-lived 200; its refusals are ordinary JSON
    // answers and carry the security headers like every other.
    if (!reply.hasHeader('content-security-policy')) reply.helmet();
    const known = classify(error);
    if (known === undefined) {
      request.log.error({ err: error }, 'unhandled error');
      return reply.code(500).send(errorBody(500, 'internal error'));
    }
    if (known.statusCode === 503) request.log.warn({ err: error }, 'dependency unavailable');
    if (known.statusCode === 503) void reply.header('retry-after', '5');
    return reply.code(known.statusCode).send(errorBody(known.statusCode, known.message));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(404, `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}
