// GET /api/realtime/stream: authenticates, checks rooms, then hands the socket to the
// fan-out. A resuming client (Last-Event-ID header or ?lastEventId=) first receives what it
// missed from the stream while live events are held back, then the held events after its
// cursor: no gap and no duplicate across the hand-over.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import rateLimit from '@fastify/rate-limit';
import { Type } from 'typebox';
import { identityOf, mayFollow, type Identity } from '../auth/index.ts';
import { MatchId, isStreamId, type RealtimeBus } from '../bus/index.ts';
import { ErrorBody, HttpError } from '../api/index.ts';
import type { ClientQueue } from './client-queue.ts';
import { openStream } from './connection.ts';
import type { Fanout } from './fanout.ts';
import type { ServiceMetrics } from '../metrics/index.ts';
import { eventFrame, retryFrame } from './frames.ts';
import { STREAM_HEADERS, streamErrorHandler } from './refusal.ts';

const StreamQuery = Type.Object(
  {
    matchId: Type.Optional(Type.Array(MatchId, { maxItems: 100 })),
    lastEventId: Type.Optional(Type.String({ maxLength: 64 })),
    access_token: Type.Optional(Type.String({ maxLength: 8192 })),
  },
  { additionalProperties: false },
);

export interface StreamRouteOptions {
  readonly bus: RealtimeBus;
  readonly fanout: Fanout;
  readonly retryMs: number;
  /** Connection attempts allowed per identity per minute (a reconnect storm guard). */
  readonly maxConnectsPerMinute: number;
  /** Where in Redis the attempts are counted, for every instance together. */
  readonly rateLimitKeyPrefix: string;
  readonly draining: () => boolean;
  readonly metrics: ServiceMetrics;
}

/** The rooms a stream follows: the requested ones (each allowed), or all the caller may see. */
function roomsFor(identity: Identity, requested: readonly string[] | undefined): ReadonlySet<string> | null {
  if (identity.role === 'producer') throw new HttpError(403, 'producers publish events; they cannot subscribe');
  if (requested !== undefined && requested.length > 0) {
    const denied = requested.find((matchId) => !mayFollow(identity, matchId));
    if (denied !== undefined) throw new HttpError(403, `you may not follow match ${denied}`);
    return new Set(requested);
  }
  if (identity.role === 'admin') return null;
  if (identity.rooms.length === 0) throw new HttpError(403, 'your token grants no rooms to follow');
  return new Set(identity.rooms);
}

function resumePoint(request: FastifyRequest, query: { lastEventId?: string | undefined }): string | undefined {
  const header = request.headers['last-event-id'];
  const value = (Array.isArray(header) ? header[0] : header) ?? query.lastEventId;
  if (value === undefined || value === '') return undefined;
  if (!isStreamId(value)) throw new HttpError(400, 'Last-Event-ID must be a stream id like 1700000000000-0');
  return value;
}

async function catchUp(client: ClientQueue, bus: RealtimeBus, lastId: string): Promise<void> {
  client.beginCatchUp(lastId);
  const coverage = await bus.resumeCoverage(lastId);
  if (coverage !== 'covered') {
    // The events after lastId are gone (trimmed) or never existed here: refetch over REST.
    client.abandonCatchUp(coverage === 'trimmed' ? 'resume_point_trimmed' : 'unknown_resume_point');
    return;
  }
  // Live events held during replay are bounded; if they overflowed, read history again
  // from the cursor: those events are in the stream too.
  do {
    for await (const batch of bus.replayEventsSince(client.cursor ?? lastId)) {
      if (client.closed) return;
      await client.replay(batch, eventFrame);
    }
  } while (client.takeHeldOverflow() && !client.closed);
  client.goLive();
}

export async function streamRoute(instance: FastifyInstance, options: StreamRouteOptions): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { bus, fanout, retryMs, draining, metrics } = options;
  // Counted in Redis, not per process, so N replicas do not allow N times the limit. When
  // Redis cannot count, streams are not refused for it (skipOnError): the stream needs Redis
  // anyway and answers for itself when Redis is away.
  await app.register(rateLimit, {
    global: false,
    hook: 'preHandler',
    redis: bus.redis,
    nameSpace: `${options.rateLimitKeyPrefix}connect:`,
    skipOnError: true,
  });
  app.get(
    '/api/realtime/stream',
    {
      // Helmet's page headers (CSP, frame options, ...) mean nothing to an event stream, and
      // every one of them stays in memory with the response for the connection's lifetime.
      helmet: false,
      preHandler: app.authenticate,
      // Runs after authenticate, so attempts are counted per verified identity.
      config: {
        rateLimit: {
          max: options.maxConnectsPerMinute,
          timeWindow: 60_000,
          keyGenerator: (request: FastifyRequest) => request.identity?.sub ?? request.ip,
          onExceeded: () => metrics.connectionsRefused.inc({ reason: 'attempt_rate' }),
          errorResponseBuilder: (_request: FastifyRequest, context: { after: string; ttl: number }) =>
            new HttpError(429, `too many stream connections; retry in ${context.after}`, context.ttl),
        },
      },
      errorHandler: streamErrorHandler(retryMs),
      schema: {
        querystring: StreamQuery,
        response: { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      if (draining()) throw new HttpError(503, 'this instance is shutting down; reconnect', retryMs);
      const identity = identityOf(request);
      const rooms = roomsFor(identity, request.query.matchId);
      const lastId = resumePoint(request, request.query);
      if (identity.expiresAt !== undefined && identity.expiresAt <= Date.now())
        throw new HttpError(401, 'token expired');

      const full = fanout.refusal(identity.sub);
      if (full !== undefined) metrics.connectionsRefused.inc({ reason: full });
      if (full === 'instance_full')
        throw new HttpError(503, 'this instance holds all the streams it may; reconnect', retryMs);
      if (full === 'identity_full')
        throw new HttpError(429, 'you hold as many streams as one identity may; close one or retry later', retryMs);

      reply.hijack();
      const connection = openStream(request.raw, reply.raw, STREAM_HEADERS, retryFrame(retryMs));
      // The client is gone already, or asked with HEAD (headers only).
      if (connection === undefined) return;
      const client = fanout.attach(connection, identity.sub, rooms, identity.expiresAt);
      if (lastId === undefined) return;
      try {
        await catchUp(client, bus, lastId);
      } catch (error) {
        request.log.warn({ err: error }, 'resume failed; closing the stream so the client retries');
        client.close('shutdown');
      }
    },
  );
}
