// Auth: JWT verification (HS256 secret or JWKS), token lookup on requests, role and room checks.
export { authPlugin, identityOf, mayFollow, tokenFrom } from './plugin.ts';
export { AuthError, ROLES, createTokenVerifier, signToken, type Identity, type Role } from './tokens.ts';
export { FailedAuthLimit } from './failed-auth-limit.ts';
