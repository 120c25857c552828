// The service's configuration: every environment variable it reads, with defaults and
// meaning, parsed and validated once at start. The only module that reads process.env
// (entry points pass process.env in; tests pass their own object).
import { hostname } from 'node:os';
import { groupName } from '../contract/index.ts';
import { redisConfigFrom, redisEnv, streamEnv, type RedisConfig, type StreamConfig } from './common.ts';
import { ConfigError, bool, int, list, oneOf, optional, readEnv, str, type EnvSpec } from './env.ts';
import { keySlot } from '../redis/key-slot.ts';

export { ConfigError } from './env.ts';

const POSITIVE = { min: 1 };

export const serviceEnv = {
  PORT: int('Public HTTP port (API and SSE stream)', 4001, { min: 0, max: 65535 }),
  HOST: str('Address the public server binds', '0.0.0.0'),
  METRICS_PORT: int('Prometheus metrics port, never exposed on the public port', 9464, { min: 0, max: 65535 }),
  POD_NAME: optional(str('Instance identity; names this instance consumer group (defaults to the hostname)')),
  WEB_CONCURRENCY: int(
    'Worker processes (node:cluster), one per core; worker N reads through its own group <POD_NAME>-w<N>',
    1,
    { min: 1, max: 64 },
  ),
  ...redisEnv,
  ...streamEnv,
  REALTIME_STREAM_READ_COUNT: int('Entries per XREADGROUP call', 50, POSITIVE),
  REALTIME_STREAM_READ_BLOCK_MS: int('XREADGROUP BLOCK timeout in milliseconds', 5000, POSITIVE),
  REALTIME_STREAM_READ_LINGER_MS: optional(
    int(
      'After a read that returned less than a full batch, wait this long before the next, so events arriving meanwhile share one read: less Redis CPU per instance for up to this much latency; 0 reads again at once (default: SSE_FLUSH_INTERVAL_MS, whose window hides it)',
      undefined,
      { min: 0 },
    ),
  ),
  REALTIME_REPLAY_BATCH: int('Entries per XRANGE call when a client resumes', 500, POSITIVE),
  SSE_HEARTBEAT_INTERVAL_MS: int('Interval of the ": heartbeat" comment on every stream', 15000, POSITIVE),
  SSE_RETRY_MS: int('Reconnect delay the stream advertises with "retry:"', 5000, POSITIVE),
  SSE_CLIENT_QUEUE_LIMIT: int('Events buffered per client while its socket is full', 100, POSITIVE),
  SSE_CLIENT_SOCKET_BUFFER_BYTES: int(
    'Bytes a client socket may buffer before further events wait in its queue',
    262144,
    POSITIVE,
  ),
  SSE_FLUSH_INTERVAL_MS: int(
    'Events for one client within this window go out in one write (the first after a quiet spell at once); 0 writes every batch at once',
    20,
    { min: 0 },
  ),
  SSE_OVERFLOW_POLICY: oneOf('What happens when a client queue is full: drop events or disconnect the client', 'drop', [
    'drop',
    'disconnect',
  ] as const),
  SSE_DRAIN_WINDOW_MS: int('On shutdown, stream connections are closed spread over this window', 5000, { min: 0 }),
  SSE_MAX_CONNECT_PER_MINUTE: int(
    'Stream connection attempts allowed per identity per minute, counted in Redis across all instances',
    60,
    POSITIVE,
  ),
  SSE_MAX_CONNECTIONS: int(
    'Most streams one instance holds at once; past it new streams are told to retry (elsewhere)',
    10000,
    POSITIVE,
  ),
  SSE_MAX_CONNECTIONS_PER_IDENTITY: int('Most streams one identity holds at once on one instance', 10, POSITIVE),
  AUTH_MAX_FAILURES_PER_MINUTE: int(
    'Requests with a forged or malformed token allowed per client address per minute, counted in Redis across all instances; past it the address gets 429 before any token check',
    30,
    POSITIVE,
  ),
  RATE_LIMIT_KEY_PREFIX: str(
    'Prefix of the Redis keys that count connection attempts and failed authentications',
    'trayb:ratelimit:',
  ),
  HTTP_TRUST_PROXY: list(
    'Comma-separated addresses or CIDRs of the proxies (ingress) whose X-Forwarded-For names the client address; empty trusts none',
  ),
  HTTP_BODY_LIMIT_BYTES: int('Largest accepted request body; larger bodies get 413', 65536, POSITIVE),
  MATCHES_KEY: str('Redis hash holding the matches served by /api/matches', 'trayb:matches'),
  MATCHES_CACHE_TTL_MS: int('How long an instance caches the match list (cache=refresh bypasses)', 2000, { min: 0 }),
  AUTH_JWT_SECRET: optional(str('HS256 secret for verifying tokens (development and tests)')),
  AUTH_JWKS_URL: optional(str('JWKS URL of the identity provider (production)', undefined, /^https?:\/\//)),
  AUTH_JWT_ISSUER: optional(str('Required token issuer (iss), when set')),
  AUTH_JWT_AUDIENCE: optional(str('Required token audience (aud), when set')),
  AUTH_TOKEN_CACHE_TTL_MS: int(
    'How long a verified token is accepted again without checking its signature (never past its exp); 0 checks every request',
    60000,
    { min: 0 },
  ),
  AUTH_TOKEN_CACHE_MAX_ENTRIES: int(
    'Verified tokens remembered per process; the oldest is forgotten first',
    10000,
    POSITIVE,
  ),
  AUTH_DEV_TOKENS: bool(
    'Serve GET /api/dev/token for the demo page; only the development entry (`npm run dev`, `npm start`) turns this on',
    false,
  ),
  LOG_LEVEL: oneOf('pino log level', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
} satisfies EnvSpec;

export interface ServiceConfig {
  readonly port: number;
  readonly host: string;
  readonly metricsPort: number;
  readonly instance: string;
  /** Worker processes; above 1 the production entry runs a node:cluster primary. */
  readonly webConcurrency: number;
  readonly redis: RedisConfig;
  readonly stream: StreamConfig & {
    readonly group: string;
    readonly consumer: string;
    readonly readCount: number;
    readonly readBlockMs: number;
    readonly readLingerMs: number;
    readonly replayBatch: number;
  };
  readonly sse: {
    readonly heartbeatIntervalMs: number;
    readonly retryMs: number;
    readonly queueLimit: number;
    readonly socketBufferBytes: number;
    readonly overflowPolicy: 'drop' | 'disconnect';
    readonly flushIntervalMs: number;
    readonly drainWindowMs: number;
    readonly maxConnectsPerMinute: number;
    readonly maxConnections: number;
    readonly maxConnectionsPerIdentity: number;
  };
  readonly http: {
    readonly bodyLimitBytes: number;
    readonly matchesKey: string;
    readonly matchesCacheTtlMs: number;
    readonly trustProxy: readonly string[];
  };
  /** Counters shared by every instance through Redis. */
  readonly rateLimits: { readonly keyPrefix: string; readonly authFailuresPerMinute: number };
  readonly auth: {
    readonly jwtSecret: string | undefined;
    readonly jwksUrl: string | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
    readonly tokenCache: { readonly ttlMs: number; readonly maxEntries: number };
    readonly devTokens: boolean;
  };
  readonly logLevel: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A match change and its event are written by one script (api/match-store.ts), and Redis
 * Cluster runs a script only when all its keys hash to one slot. Refusing at start names the
 * keys; letting the first write fail with CROSSSLOT would not. The defaults are left as they
 * are (the stream key is a contract other producers and readers are configured with):
 * operators choose the hash tag.
 */
function requireOneSlot(keys: Record<string, string>): void {
  const slots = Object.entries(keys).map(([name, key]) => ({ name, key, slot: keySlot(key) }));
  if (slots.every(({ slot }) => slot === slots[0]?.slot)) return;
  const listed = slots.map(({ name, key, slot }) => `${name} (${key}, slot ${slot})`).join(' and ');
  throw new ConfigError([
    `in Redis Cluster ${listed} must share a hash slot, because a match change and its event are written in one step: ` +
      'give them the same hash tag, e.g. REALTIME_STREAM_KEY={trayb}:events:realtime MATCHES_KEY={trayb}:matches',
  ]);
}

export function loadServiceConfig(env: Env): ServiceConfig {
  const v = readEnv(serviceEnv, env);
  const instance = v.POD_NAME ?? hostname();
  const redis = redisConfigFrom(v);
  if (redis.mode === 'cluster')
    requireOneSlot({ REALTIME_STREAM_KEY: v.REALTIME_STREAM_KEY, MATCHES_KEY: v.MATCHES_KEY });
  return {
    port: v.PORT,
    host: v.HOST,
    metricsPort: v.METRICS_PORT,
    instance,
    webConcurrency: v.WEB_CONCURRENCY,
    redis,
    stream: {
      key: v.REALTIME_STREAM_KEY,
      groupPrefix: v.REALTIME_STREAM_GROUP,
      group: groupName(v.REALTIME_STREAM_GROUP, instance),
      consumer: instance,
      maxLen: v.REALTIME_STREAM_MAXLEN,
      readCount: v.REALTIME_STREAM_READ_COUNT,
      readBlockMs: v.REALTIME_STREAM_READ_BLOCK_MS,
      // The fan-out holds events for its flush window anyway: a linger as long costs no latency.
      readLingerMs: v.REALTIME_STREAM_READ_LINGER_MS ?? v.SSE_FLUSH_INTERVAL_MS,
      replayBatch: v.REALTIME_REPLAY_BATCH,
    },
    sse: {
      heartbeatIntervalMs: v.SSE_HEARTBEAT_INTERVAL_MS,
      retryMs: v.SSE_RETRY_MS,
      queueLimit: v.SSE_CLIENT_QUEUE_LIMIT,
      socketBufferBytes: v.SSE_CLIENT_SOCKET_BUFFER_BYTES,
      overflowPolicy: v.SSE_OVERFLOW_POLICY,
      flushIntervalMs: v.SSE_FLUSH_INTERVAL_MS,
      drainWindowMs: v.SSE_DRAIN_WINDOW_MS,
      maxConnectsPerMinute: v.SSE_MAX_CONNECT_PER_MINUTE,
      maxConnections: v.SSE_MAX_CONNECTIONS,
      maxConnectionsPerIdentity: v.SSE_MAX_CONNECTIONS_PER_IDENTITY,
    },
    http: {
      bodyLimitBytes: v.HTTP_BODY_LIMIT_BYTES,
      matchesKey: v.MATCHES_KEY,
      matchesCacheTtlMs: v.MATCHES_CACHE_TTL_MS,
      trustProxy: v.HTTP_TRUST_PROXY,
    },
    rateLimits: { keyPrefix: v.RATE_LIMIT_KEY_PREFIX, authFailuresPerMinute: v.AUTH_MAX_FAILURES_PER_MINUTE },
    auth: {
      jwtSecret: v.AUTH_JWT_SECRET,
      jwksUrl: v.AUTH_JWKS_URL,
      issuer: v.AUTH_JWT_ISSUER,
      audience: v.AUTH_JWT_AUDIENCE,
      tokenCache: { ttlMs: v.AUTH_TOKEN_CACHE_TTL_MS, maxEntries: v.AUTH_TOKEN_CACHE_MAX_ENTRIES },
      devTokens: v.AUTH_DEV_TOKENS,
    },
    logLevel: v.LOG_LEVEL,
  };
}
