// GET /api/users/profile: who the caller is and the matches they follow; the second REST
// endpoint browsers poll when the stream is unavailable.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { identityOf, mayFollow } from '../auth/index.ts';
import type { RealtimeBus } from '../bus/index.ts';
import { ErrorBody } from './errors.ts';
import { Match, type MatchStore } from './match-store.ts';

const HISTORY_SCAN = 500;
const HISTORY_LIMIT = 100;

const Profile = Type.Object({
  id: Type.String(),
  role: Type.String(),
  rooms: Type.Array(Type.String()),
  matches: Type.Array(Match),
  history: Type.Optional(
    Type.Array(
      Type.Object({ id: Type.String(), action: Type.String(), matchId: Type.String(), timestamp: Type.String() }),
    ),
  ),
});

export async function profileRoutes(
  instance: FastifyInstance,
  { store, bus }: { store: MatchStore; bus: RealtimeBus },
): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/users/profile',
    {
      preHandler: app.authenticate,
      schema: {
        querystring: Type.Object(
          { fullHistory: Type.Optional(Type.Boolean({ default: false })) },
          { additionalProperties: false },
        ),
        response: { 200: Profile, 400: ErrorBody, 401: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => {
      const identity = identityOf(request);
      const matches = (await store.list()).filter((match) => mayFollow(identity, match.id));
      const profile = { id: identity.sub, role: identity.role, rooms: [...identity.rooms], matches };
      if (request.query.fullHistory !== true) return profile;
      // The recent stream entries of the caller's matches, newest first.
      const recent = await bus.recentEvents(HISTORY_SCAN);
      const history = recent
        .filter((entry) => mayFollow(identity, entry.event.matchId))
        .slice(0, HISTORY_LIMIT)
        .map((entry) => ({
          id: entry.id,
          action: entry.event.action,
          matchId: entry.event.matchId,
          timestamp: entry.event.timestamp,
        }));
      return { ...profile, history };
    },
  );
}
