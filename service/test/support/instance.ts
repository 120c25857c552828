// Test instances of the service: real Fastify on a loopback port, real Redis (the suite's
// private redis-server), a stream key of their own so tests never see each other's events.
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadServiceConfig, type ServiceConfig } from '../../src/config/index.ts';
import { signToken, type Role } from '../../src/auth/index.ts';

/** An obviously fake secret that exists only in tests. */
export const TEST_SECRET = 'test-only-secret-not-for-production';

export interface TestStream {
  readonly key: string;
  readonly matchesKey: string;
}

export function testStream(): TestStream {
  const id = randomUUID().slice(0, 8);
  return { key: `test:${id}:events`, matchesKey: `test:${id}:matches` };
}

export function testConfig(stream: TestStream, env: Record<string, string> = {}): ServiceConfig {
  return loadServiceConfig({
    REDIS_URL: inject('redisUrl'),
    REALTIME_STREAM_KEY: stream.key,
    MATCHES_KEY: stream.matchesKey,
    // Instances of one test stream share their limits, as replicas do; other tests' do not.
    RATE_LIMIT_KEY_PREFIX: `${stream.key}:ratelimit:`,
    // Suites open many streams as one identity (one admin token); the per-identity cap is
    // tested where a suite sets it (security/stream-refusals.test.ts).
    SSE_MAX_CONNECTIONS_PER_IDENTITY: '100000',
    POD_NAME: `pod-${randomUUID().slice(0, 6)}`,
    AUTH_JWT_SECRET: TEST_SECRET,
    PORT: '0',
    METRICS_PORT: '0',
    HOST: '127.0.0.1',
    REALTIME_STREAM_READ_BLOCK_MS: '1000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
}

export interface TestInstance {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly config: ServiceConfig;
  close(): Promise<void>;
}

export async function startInstance(config: ServiceConfig): Promise<TestInstance> {
  const app = await buildApp(config, pino({ level: config.logLevel }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    config,
    close: async () => {
      app.realtime.draining = true;
      await app.close();
    },
  };
}

export function token(
  role: Role,
  rooms: string[] = [],
  options: { expiresIn?: string; sub?: string } = {},
): Promise<string> {
  return signToken(
    TEST_SECRET,
    { sub: options.sub ?? `${role}-1`, role, rooms },
    options.expiresIn === undefined ? {} : { expiresIn: options.expiresIn },
  );
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function publish(url: string, bearer: string, body: unknown): Promise<Response> {
  return fetch(`${url}/api/realtime/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
