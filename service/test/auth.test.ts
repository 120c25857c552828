// Production auth: tokens signed by the identity provider's key, fetched from its JWKS URL,
// with issuer and audience enforced; HS256 tokens are refused in that mode.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, type AuthError } from '../src/auth/index.ts';
import { token } from '#test-support/instance';

let jwks: Server;
let jwksUrl: string;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  jwks = createServer((_request, response) =>
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
  );
  jwks.listen(0, '127.0.0.1');
  await once(jwks, 'listening');
  const address = jwks.address() as { port: number };
  jwksUrl = `http://127.0.0.1:${address.port}/.well-known/jwks.json`;
});
afterAll(() => jwks.close());

function idpToken(claims: Record<string, unknown>, options: { issuer?: string; audience?: string; kid?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? 'k1' })
    .setSubject('u-42')
    .setIssuer(options.issuer ?? 'https://idp.example')
    .setAudience(options.audience ?? 'trayb-realtime')
    .setExpirationTime('5m')
    .sign(privateKey);
}

const tokenCache = { ttlMs: 60_000, maxEntries: 10_000 };

describe('tokens verified through a JWKS URL', () => {
  const verifier = () =>
    createTokenVerifier({
      jwtSecret: undefined,
      jwksUrl,
      issuer: 'https://idp.example',
      audience: 'trayb-realtime',
      tokenCache,
      devTokens: false,
    });

  it('accepts a token signed by the published key, with its claims', async () => {
    const identity = await verifier()(await idpToken({ role: 'user', rooms: ['m-1'] }));
    expect(identity).toMatchObject({ sub: 'u-42', role: 'user', rooms: ['m-1'] });
    expect(identity.expiresAt).toBeGreaterThan(Date.now());
  });

  it.each([
    ['the wrong issuer', () => idpToken({ role: 'user' }, { issuer: 'https://evil.example' })],
    ['the wrong audience', () => idpToken({ role: 'user' }, { audience: 'someone-else' })],
    ['an unknown key id', () => idpToken({ role: 'user' }, { kid: 'k2' })],
    ['an HS256 token, even with a known secret', () => token('admin')],
    [
      'alg none',
      async () =>
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x","role":"admin"}').toString('base64url')}.`,
    ],
  ])('refuses %s with a 401', async (_what, make) => {
    await expect(verifier()(await make())).rejects.toMatchObject({
      name: 'AuthError',
      statusCode: 401,
    } satisfies Partial<AuthError>);
  });

  it('refuses to build without any key material', () => {
    expect(() =>
      createTokenVerifier({
        jwtSecret: undefined,
        jwksUrl: undefined,
        issuer: undefined,
        audience: undefined,
        tokenCache,
        devTokens: false,
      }),
    ).toThrow(/not configured/);
  });
});
