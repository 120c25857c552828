// Fastify side of auth: finds the token (Authorization: Bearer, ?access_token= for
// EventSource, or the access_token cookie), verifies it, and offers the checks routes use.
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import { AuthError, createTokenVerifier, type Identity, type Role } from './tokens.ts';
import type { FailedAuthLimit } from './failed-auth-limit.ts';
import type { ServiceConfig } from '../config/index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: 401 unless the request carries a valid token; sets request.identity. */
    authenticate: (request: FastifyRequest) => Promise<void>;
    /** preHandler factory: 403 unless the caller has one of the roles. */
    requireRole: (...roles: Role[]) => (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    identity: Identity | undefined;
  }
}

export function tokenFrom(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match === null) throw new AuthError(401, 'Authorization header must be "Bearer <token>"');
    return match[1];
  }
  const query = request.query as Record<string, unknown> | undefined;
  if (typeof query?.access_token === 'string') return query.access_token;
  return request.cookies.access_token;
}

/** The caller's identity; only valid after `authenticate` ran. */
export function identityOf(request: FastifyRequest): Identity {
  if (request.identity === undefined) throw new AuthError(401, 'not authenticated');
  return request.identity;
}

/** True when the identity may read events of `matchId`. */
export function mayFollow(identity: Identity, matchId: string): boolean {
  return identity.role === 'admin' || identity.rooms.includes(matchId);
}

export const authPlugin = fp(
  async (app, options: { auth: ServiceConfig['auth']; failedAuthLimit: FailedAuthLimit }) => {
    const verify = createTokenVerifier(options.auth);
    // Where development mints tokens (`npm run dev`), the 401 a first curl gets says how to get one.
    const devTokens = options.auth.devTokens && options.auth.jwtSecret !== undefined;
    const tokenRequired = (request: FastifyRequest) =>
      devTokens
        ? `a bearer token is required; this development server mints one: curl -s 'http://${request.host}/api/dev/token?role=admin', then send it as "Authorization: Bearer <token>"`
        : 'a bearer token is required';
    await app.register(cookie);
    app.decorateRequest('identity', undefined);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const token = tokenFrom(request);
      if (token === undefined || token.length === 0) throw new AuthError(401, tokenRequired(request));
      try {
        // Before verification (a token that verified recently skips both): an address that
        // keeps presenting forged tokens gets no more checks.
        request.identity = await verify(token, () => options.failedAuthLimit.check(request.ip));
      } catch (error) {
        if (error instanceof AuthError && error.forged) await options.failedAuthLimit.recordFailure(request.ip);
        throw error;
      }
    });
    app.decorate('requireRole', (...roles: Role[]) => async (request: FastifyRequest) => {
      const identity = identityOf(request);
      if (!roles.includes(identity.role)) throw new AuthError(403, `this needs the ${roles.join(' or ')} role`);
    });
  },
  { name: 'auth' },
);
