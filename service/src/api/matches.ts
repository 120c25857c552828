// Match routes: the REST state browsers load and poll, and the producers whose mutations
// emit match:created / match:updated / match:deleted.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { identityOf, mayFollow } from '../auth/index.ts';
import { MatchId } from '../bus/index.ts';
import { ErrorBody, HttpError } from './errors.ts';
import { CreateMatch, Match, UpdateMatch, type MatchStore } from './match-store.ts';

const Params = Type.Object({ id: MatchId });
const Written = Type.Object({ match: Match, eventId: Type.String() });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };

export async function matchRoutes(instance: FastifyInstance, { store }: { store: MatchStore }): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const writers = { preHandler: [app.authenticate, app.requireRole('admin', 'producer')] };

  app.get(
    '/api/matches',
    {
      preHandler: app.authenticate,
      schema: {
        querystring: Type.Object({ cache: Type.Optional(Type.Literal('refresh')) }, { additionalProperties: false }),
        response: { 200: Type.Object({ matches: Type.Array(Match) }), ...errors },
      },
    },
    async (request) => {
      const identity = identityOf(request);
      const matches = await store.list(request.query.cache === 'refresh');
      return { matches: identity.role === 'user' ? matches.filter((match) => mayFollow(identity, match.id)) : matches };
    },
  );

  app.get(
    '/api/matches/:id',
    { preHandler: app.authenticate, schema: { params: Params, response: { 200: Match, ...errors } } },
    async (request) => {
      const identity = identityOf(request);
      if (identity.role === 'user' && !mayFollow(identity, request.params.id))
        throw new HttpError(403, `you may not follow match ${request.params.id}`);
      const match = await store.get(request.params.id);
      if (match === undefined) throw new HttpError(404, `no match with id ${request.params.id}`);
      return match;
    },
  );

  app.post(
    '/api/matches',
    { ...writers, schema: { body: CreateMatch, response: { 201: Written, ...errors } } },
    async (request, reply) => {
      const { match, entry } = await store.create(request.body);
      return reply.code(201).send({ match, eventId: entry.id });
    },
  );

  app.patch(
    '/api/matches/:id',
    { ...writers, schema: { params: Params, body: UpdateMatch, response: { 200: Written, ...errors } } },
    async (request) => {
      const { match, entry } = await store.update(request.params.id, request.body);
      return { match, eventId: entry.id };
    },
  );

  app.delete(
    '/api/matches/:id',
    { ...writers, schema: { params: Params, response: { 200: Type.Object({ eventId: Type.String() }), ...errors } } },
    async (request) => ({ eventId: (await store.remove(request.params.id)).id }),
  );
}
