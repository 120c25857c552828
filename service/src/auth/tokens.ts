// Token verification: HS256 with a shared secret (development, tests) or the identity
// provider's JWKS (production). jose rejects `alg: none` and algorithms we did not list.
import { SignJWT, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { ServiceConfig } from '../config/index.ts';

export const ROLES = ['admin', 'user', 'producer'] as const;
export type Role = (typeof ROLES)[number];

export interface Identity {
  readonly sub: string;
  readonly role: Role;
  /** Match ids the caller may follow; admins follow every match. */
  readonly rooms: readonly string[];
  /** Expiry in ms since epoch, when the token has one. */
  readonly expiresAt: number | undefined;
}

export class AuthError extends Error {
  readonly statusCode: 401 | 403;
  constructor(statusCode: 401 | 403, message: string) {
    super(message);
    this.name = 'AuthError';
    this.statusCode = statusCode;
  }
}

export type TokenVerifier = (token: string) => Promise<Identity>;

const HMAC_ALGORITHMS = ['HS256'];
const ASYMMETRIC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

function identityFrom(payload: JWTPayload): Identity {
  const { sub, role, rooms, exp } = payload;
  if (typeof sub !== 'string' || sub.length === 0) throw new AuthError(401, 'token has no subject');
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw new AuthError(401, 'token has no valid role');
  if (rooms !== undefined && (!Array.isArray(rooms) || !rooms.every((room) => typeof room === 'string'))) {
    throw new AuthError(401, 'token rooms must be a list of match ids');
  }
  return { sub, role: role as Role, rooms: rooms ?? [], expiresAt: exp === undefined ? undefined : exp * 1000 };
}

export function createTokenVerifier(auth: ServiceConfig['auth']): TokenVerifier {
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (auth.jwksUrl !== undefined) {
    key = createRemoteJWKSet(new URL(auth.jwksUrl));
    algorithms = ASYMMETRIC_ALGORITHMS;
  } else if (auth.jwtSecret !== undefined) {
    key = new TextEncoder().encode(auth.jwtSecret);
    algorithms = HMAC_ALGORITHMS;
  } else {
    throw new Error('auth is not configured: set AUTH_JWT_SECRET or AUTH_JWKS_URL');
  }
  const options = {
    algorithms,
    ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
    ...(auth.audience === undefined ? {} : { audience: auth.audience }),
  };
  return async (token) => {
    try {
      const { payload } = await (typeof key === 'function' ? jwtVerify(token, key, options) : jwtVerify(token, key, options));
      return identityFrom(payload);
    } catch (error) {
      if (error instanceof AuthError) throw error;
      if (error instanceof errors.JWTExpired) throw new AuthError(401, 'token expired');
      if (error instanceof errors.JOSEError) throw new AuthError(401, `invalid token: ${error.code}`);
      throw error;
    }
  };
}

/** Signs an HS256 token (expiresIn like '15m'); used by the development token route and the tests. */
export async function signToken(
  secret: string,
  claims: { sub: string; role: Role; rooms?: readonly string[] },
  options: { expiresIn?: string; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({ role: claims.role, rooms: [...(claims.rooms ?? [])] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h');
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
