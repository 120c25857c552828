// Builds the Fastify application of one service instance without listening: tests use it
// with a real port or app.inject, main.ts and dev.ts listen and wire signals. The bus
// starts reading into the fan-out when the app is ready and stops when it closes.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import type { Logger } from 'pino';
import type { ServiceConfig } from './config/index.ts';
import { RealtimeBus } from './bus/index.ts';
import { FailedAuthLimit, authPlugin } from './auth/index.ts';
import { createServiceMetrics, SseHashCounters, type ServiceMetrics } from './metrics/index.ts';
import { Fanout, streamRoute } from './sse/index.ts';
import { clientRoutes } from './client/index.ts';
import { validatorCompiler } from './api/validation.ts';
import {
  MatchStore,
  clientErrorHandler,
  devTokenRoutes,
  healthRoutes,
  installErrorHandling,
  matchRoutes,
  profileRoutes,
  publishRoutes,
} from './api/index.ts';

const TOKEN_IN_QUERY = /([?&]access_token=)[^&#]*/gi;

/** What a request log line shows: Fastify's usual fields, with query tokens masked. */
function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url.replace(TOKEN_IN_QUERY, '$1[redacted]'),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket.remotePort,
  };
}

export interface Realtime {
  readonly config: ServiceConfig;
  readonly bus: RealtimeBus;
  readonly fanout: Fanout;
  readonly metrics: ServiceMetrics;
  readonly counters: SseHashCounters;
  readonly matches: MatchStore;
  /** True once shutdown began: readiness fails and new streams are refused. */
  draining: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    realtime: Realtime;
  }
}

export async function buildApp(config: ServiceConfig, logger: Logger): Promise<FastifyInstance> {
  // Request logs show the URL with `access_token` masked: EventSource clients must pass
  // their token in the query string, and a token in a log is a token anyone can replay.
  const loggerInstance: FastifyBaseLogger = logger.child({}, { serializers: { req: serializeRequest } });
  const app = Fastify({
    loggerInstance,
    bodyLimit: config.http.bodyLimitBytes,
    // request.ip is what the per-address limits count: behind an ingress it must be the
    // client's address from X-Forwarded-For, taken only from the proxies named here.
    trustProxy: config.http.trustProxy.length > 0 ? [...config.http.trustProxy] : false,
    routerOptions: { maxParamLength: 200 },
    clientErrorHandler,
  });
  app.setValidatorCompiler(validatorCompiler);
  installErrorHandling(app);

  const metrics = createServiceMetrics();
  // The fan-out and the match store are built on the bus's command connection; the bus gets
  // what it delivers to when it starts reading (onReady below), after both exist.
  const bus = new RealtimeBus({ config, log: logger, metrics });
  const counters = new SseHashCounters(bus.redis, (error) =>
    logger.warn({ err: error }, 'could not update the metrics:sse hash'),
  );
  const fanout = new Fanout({
    queueLimit: config.sse.queueLimit,
    socketBufferBytes: config.sse.socketBufferBytes,
    overflowPolicy: config.sse.overflowPolicy,
    flushIntervalMs: config.sse.flushIntervalMs,
    heartbeatIntervalMs: config.sse.heartbeatIntervalMs,
    retryMs: config.sse.retryMs,
    maxConnections: config.sse.maxConnections,
    maxConnectionsPerIdentity: config.sse.maxConnectionsPerIdentity,
    metrics,
    counters,
  });
  const matches = new MatchStore(bus.redis, {
    key: config.http.matchesKey,
    cacheTtlMs: config.http.matchesCacheTtlMs,
    publisher: bus.publisher,
  });
  const realtime: Realtime = { config, bus, fanout, metrics, counters, matches, draining: false };
  app.decorate('realtime', realtime);

  // Security headers for the JSON routes and the live page; the stream writes its own
  // headers. Without upgrade-insecure-requests: everything the page loads is same-origin,
  // so over TLS it changes nothing, while on plain HTTP to a host other than localhost it
  // made the browser fetch the page's scripts over https, and the page stayed empty.
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  const failedAuthLimit = new FailedAuthLimit(bus.redis, {
    keyPrefix: config.rateLimits.keyPrefix,
    maxPerMinute: config.rateLimits.authFailuresPerMinute,
    onError: (error) => logger.warn({ err: error }, 'could not count failed authentications in Redis'),
  });
  await app.register(authPlugin, { auth: config.auth, failedAuthLimit });
  const draining = () => realtime.draining;
  await app.register(healthRoutes, { bus, readBlockMs: config.stream.readBlockMs, draining });
  await app.register(matchRoutes, { store: matches });
  await app.register(profileRoutes, { store: matches, bus });
  await app.register(publishRoutes, { bus });
  await app.register(streamRoute, {
    bus,
    fanout,
    retryMs: config.sse.retryMs,
    maxConnectsPerMinute: config.sse.maxConnectsPerMinute,
    rateLimitKeyPrefix: config.rateLimits.keyPrefix,
    draining,
    metrics,
  });
  if (config.auth.devTokens && config.auth.jwtSecret !== undefined)
    await app.register(devTokenRoutes, { secret: config.auth.jwtSecret });
  await app.register(clientRoutes, { devTokens: config.auth.devTokens && config.auth.jwtSecret !== undefined });

  app.addHook('onReady', async () => {
    // Every entry this instance reads goes to its clients, and may be another instance's
    // change to a match this instance has cached.
    await bus.start((entries) => {
      fanout.deliver(entries);
      matches.invalidate();
    });
  });
  app.addHook('onClose', async () => {
    realtime.fanout.close();
    await bus.stop();
    await counters.close().catch(() => undefined);
  });
  return app;
}

/**
 * Graceful shutdown: readiness fails first, every client gets `shutdown`, connections
 * close spread over the drain window, then the bus stops and the app closes.
 */
export async function shutdown(app: FastifyInstance): Promise<void> {
  const { realtime } = app;
  if (realtime.draining) return;
  realtime.draining = true;
  app.log.info(
    { clients: realtime.fanout.size, drainWindowMs: realtime.config.sse.drainWindowMs },
    'draining stream clients',
  );
  await realtime.fanout.drain(realtime.config.sse.drainWindowMs);
  await realtime.counters.flush();
  await app.close();
}
