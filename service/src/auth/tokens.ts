// Token verification: HS256 with a shared secret (development, tests) or the identity
// provider's JWKS (production). jose rejects `alg: none` and algorithms we did not list.
// A token that verified is remembered for a short while, so resending it costs no check.
import { createSecretKey } from 'node:crypto';
import {
  SignJWT,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type CryptoKey,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
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
  readonly statusCode: 401 | 403 | 429;
  /** A 429's wait before the next attempt. */
  readonly retryAfterMs: number | undefined;
  /**
   * True when the token failed its signature or format check: what guessing or forging
   * looks like, and what the failed-authentication limit counts. A missing or expired
   * token (its signature held) is no guess.
   */
  readonly forged: boolean;
  constructor(statusCode: 401 | 403 | 429, message: string, details: { retryAfterMs?: number; forged?: boolean } = {}) {
    super(message);
    this.name = 'AuthError';
    this.statusCode = statusCode;
    this.retryAfterMs = details.retryAfterMs;
    this.forged = details.forged ?? false;
  }
}

/**
 * `beforeVerifying` runs only when the token is not one that verified recently: a brake on
 * guessing (the failed-authentication limit) costs known-good tokens nothing.
 */
export type TokenVerifier = (token: string, beforeVerifying?: () => Promise<void>) => Promise<Identity>;

const HMAC_ALGORITHMS = ['HS256'];
const ASYMMETRIC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

function identityFrom(payload: JWTPayload): Identity {
  const { sub, role, rooms, exp } = payload;
  if (typeof sub !== 'string' || sub.length === 0) throw new AuthError(401, 'token has no subject');
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
    throw new AuthError(401, 'token has no valid role');
  if (rooms !== undefined && (!Array.isArray(rooms) || !rooms.every((room) => typeof room === 'string'))) {
    throw new AuthError(401, 'token rooms must be a list of match ids');
  }
  return { sub, role: role as Role, rooms: rooms ?? [], expiresAt: exp === undefined ? undefined : exp * 1000 };
}

export function createTokenVerifier(auth: ServiceConfig['auth']): TokenVerifier {
  let key: CryptoKey | JWTVerifyGetKey;
  let algorithms: string[];
  if (auth.jwksUrl !== undefined) {
    key = createRemoteJWKSet(new URL(auth.jwksUrl));
    algorithms = ASYMMETRIC_ALGORITHMS;
  } else if (auth.jwtSecret !== undefined) {
    // Imported once: handed raw bytes (or a secret KeyObject, which jose exports back to bytes),
    // jose imports the HMAC key again on every verification.
    key = createSecretKey(new TextEncoder().encode(auth.jwtSecret)).toCryptoKey(
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    algorithms = HMAC_ALGORITHMS;
  } else {
    throw new Error('auth is not configured: set AUTH_JWT_SECRET or AUTH_JWKS_URL');
  }
  const options = {
    algorithms,
    ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
    ...(auth.audience === undefined ? {} : { audience: auth.audience }),
  };
  const verified = verifiedTokens(auth.tokenCache);
  return async (token, beforeVerifying) => {
    const now = Date.now();
    const known = verified.get(token, now);
    if (known !== undefined) return known;
    await beforeVerifying?.();
    try {
      const { payload } = await (typeof key === 'function'
        ? jwtVerify(token, key, options)
        : jwtVerify(token, key, options));
      const identity = identityFrom(payload);
      verified.remember(token, identity, now);
      return identity;
    } catch (error) {
      if (error instanceof AuthError) throw error;
      if (error instanceof errors.JWTExpired) throw new AuthError(401, 'token expired');
      if (error instanceof errors.JOSEError)
        throw new AuthError(401, `invalid token: ${error.code}`, {
          forged: !(error instanceof errors.JWTClaimValidationFailed),
        });
      throw error;
    }
  };
}

/**
 * Identities of tokens that passed verification, keyed by the exact token string: the same
 * string carries the same signature, so until the entry's deadline it is as good as a fresh
 * check. Producers send one token with every publish and subscribers resend theirs on every
 * reconnect. The deadline is the token's exp (on Date.now(), the clock jose checks exp on, so
 * an expired token misses and jose refuses it as before) or the TTL, whichever comes first;
 * nbf needs nothing, as a token before its nbf never verifies. Only successes are stored, and
 * at most maxEntries of them. The oldest stored goes first rather than the least used: every
 * entry goes within the TTL anyway, and a token still in use is stored again on its next
 * request.
 */
function verifiedTokens({ ttlMs, maxEntries }: ServiceConfig['auth']['tokenCache']) {
  const entries = new Map<string, { identity: Identity; until: number }>();
  return {
    get(token: string, now: number): Identity | undefined {
      const entry = entries.get(token);
      if (entry === undefined) return undefined;
      if (entry.until > now) return entry.identity;
      entries.delete(token);
      return undefined;
    },
    remember(token: string, identity: Identity, now: number): void {
      if (ttlMs === 0) return;
      entries.set(token, { identity, until: Math.min(now + ttlMs, identity.expiresAt ?? Infinity) });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
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
