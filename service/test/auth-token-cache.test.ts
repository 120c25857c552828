// A producer sends the same token with every publish and a subscriber resends its token on
// every reconnect: a token that verified is remembered, so repeats cost no signature check.
// What is remembered never outlives the token's exp or the TTL, is never what a tampered
// token gets, and is never a refusal; the number of remembered tokens stays bounded.
import type * as joseModule from 'jose';
import { SignJWT, base64url, jwtVerify, type JWTPayload } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTokenVerifier, type AuthError } from '../src/auth/index.ts';

// The real jwtVerify, counted: every count is one signature check the verifier paid for.
vi.mock('jose', async (importOriginal) => {
  const jose = await importOriginal<typeof joseModule>();
  return { ...jose, jwtVerify: vi.fn(jose.jwtVerify) };
});
const signatureChecks = () => vi.mocked(jwtVerify).mock.calls.length;

const SECRET = 'token-cache-test-secret-not-a-real-one';
const T0 = Date.UTC(2030, 0, 1);
const seconds = (ms: number) => Math.floor(ms / 1000);

function verifier(tokenCache: { ttlMs: number; maxEntries: number } = { ttlMs: 60_000, maxEntries: 10_000 }) {
  return createTokenVerifier({
    jwtSecret: SECRET,
    jwksUrl: undefined,
    issuer: undefined,
    audience: undefined,
    tokenCache,
    devTokens: false,
  });
}

function sign(claims: JWTPayload, secret = SECRET): Promise<string> {
  return new SignJWT({
    role: 'producer',
    rooms: ['m-1'],
    sub: 'p-1',
    iat: seconds(T0),
    exp: seconds(T0) + 3600,
    ...claims,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
}

const refusal = (message: string | RegExp) =>
  ({
    name: 'AuthError',
    statusCode: 401,
    message: expect.stringMatching(message) as unknown as string,
  }) satisfies Partial<AuthError>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
  vi.mocked(jwtVerify).mockClear();
});
afterEach(() => vi.useRealTimers());

describe('verified tokens are remembered', () => {
  it('a producer resending one token has its signature checked once and gets the same identity each time', async () => {
    const verify = verifier();
    const token = await sign({});
    const identities = [];
    for (let i = 0; i < 5; i++) identities.push(await verify(token));
    expect(signatureChecks()).toBe(1);
    for (const identity of identities)
      expect(identity).toEqual({
        sub: 'p-1',
        role: 'producer',
        rooms: ['m-1'],
        expiresAt: (seconds(T0) + 3600) * 1000,
      });
  });

  it('the brake on guessing runs before a signature check, never for a remembered token', async () => {
    const verify = verifier();
    const token = await sign({});
    const brake = vi.fn(async () => undefined);
    for (let i = 0; i < 3; i++) await verify(token, brake);
    expect(brake).toHaveBeenCalledTimes(1);
    expect(signatureChecks()).toBe(1);
    // A brake that refuses stops the check itself.
    const refused = vi.fn(async () => {
      throw new Error('too many failures');
    });
    await expect(verify(await sign({ sub: 'p-2' }), refused)).rejects.toThrow('too many failures');
    expect(signatureChecks()).toBe(1);
  });

  it('a remembered token is admitted until the millisecond its exp passes, then refused with the same 401 "token expired" as an unseen one', async () => {
    const verify = verifier();
    const token = await sign({ exp: seconds(T0) + 10 });
    await verify(token);
    vi.setSystemTime(T0 + 9_999);
    await expect(verify(token)).resolves.toMatchObject({ sub: 'p-1' });
    expect(signatureChecks()).toBe(1);
    vi.setSystemTime(T0 + 10_000);
    await expect(verify(token)).rejects.toMatchObject(refusal(/^token expired$/));
    await expect(verifier()(token)).rejects.toMatchObject(refusal(/^token expired$/));
    expect(signatureChecks()).toBe(3);
  });

  it.each([
    ['with an exp beyond the TTL', { exp: seconds(T0) + 3600 }],
    ['without an exp', { exp: undefined }],
  ])('a token %s is checked again once the TTL has passed since its check', async (_what, claims) => {
    const verify = verifier({ ttlMs: 60_000, maxEntries: 10 });
    const token = await sign(claims);
    await verify(token);
    vi.setSystemTime(T0 + 59_999);
    await verify(token);
    expect(signatureChecks()).toBe(1);
    vi.setSystemTime(T0 + 60_000);
    await verify(token);
    expect(signatureChecks()).toBe(2);
    vi.setSystemTime(T0 + 60_001);
    await verify(token);
    expect(signatureChecks()).toBe(2);
  });

  it('a tampered copy of a remembered token is checked, refused, and refused again', async () => {
    const verify = verifier();
    const token = await sign({});
    await verify(token);
    const [header, , signature] = token.split('.') as [string, string, string];
    const widened = `${header}.${base64url.encode(JSON.stringify({ role: 'admin', rooms: ['m-1', 'm-2'], sub: 'p-1', iat: seconds(T0), exp: seconds(T0) + 3600 }))}.${signature}`;
    const resigned = `${token.slice(0, token.lastIndexOf('.') + 1)}${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    for (const tampered of [widened, resigned, widened, resigned]) {
      await expect(verify(tampered)).rejects.toMatchObject(
        refusal(/^invalid token: ERR_JWS_SIGNATURE_VERIFICATION_FAILED$/),
      );
    }
    expect(signatureChecks()).toBe(5);
  });

  it('refusals are not remembered: a bad signature or a signed token with bad claims is checked every time', async () => {
    const verify = verifier();
    const otherSecret = await sign({}, 'another-secret-entirely');
    const noRole = await sign({ role: undefined });
    for (let i = 0; i < 3; i++) {
      await expect(verify(otherSecret)).rejects.toMatchObject(refusal(/^invalid token: /));
      await expect(verify(noRole)).rejects.toMatchObject(refusal(/^token has no valid role$/));
    }
    expect(signatureChecks()).toBe(6);
  });

  it('at most maxEntries tokens are remembered; the one checked longest ago is forgotten first', async () => {
    const verify = verifier({ ttlMs: 60_000, maxEntries: 3 });
    const tokens = await Promise.all(['p-0', 'p-1', 'p-2', 'p-3'].map((sub) => sign({ sub })));
    for (const token of tokens) await verify(token);
    expect(signatureChecks()).toBe(4);
    for (const token of tokens.slice(1)) await verify(token);
    expect(signatureChecks()).toBe(4);
    await expect(verify(tokens[0] ?? '')).resolves.toMatchObject({ sub: 'p-0' });
    expect(signatureChecks()).toBe(5);
    await verify(tokens[1] ?? '');
    expect(signatureChecks()).toBe(6);
  });

  it('with a TTL of 0 every request is checked', async () => {
    const verify = verifier({ ttlMs: 0, maxEntries: 10 });
    const token = await sign({});
    for (let i = 0; i < 3; i++) await verify(token);
    expect(signatureChecks()).toBe(3);
  });
});
