// POST /api/realtime/events: the entry point for producers other than the match routes
// (bot, analytics). Same validation as every event; 202 with the stream id.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { RealtimeEventInput, type RealtimeBus } from '../bus/index.ts';
import { ErrorBody } from './errors.ts';

export async function publishRoutes(instance: FastifyInstance, { bus }: { bus: RealtimeBus }): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/realtime/events',
    {
      preHandler: [app.authenticate, app.requireRole('producer', 'admin')],
      schema: {
        body: RealtimeEventInput,
        response: {
          202: Type.Object({ id: Type.String() }),
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          413: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const entry = await bus.emitRealtimeEvent(request.body);
      return reply.code(202).send({ id: entry.id });
    },
  );
}
