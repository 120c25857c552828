// GET /api/dev/token: short-lived tokens for the demo page and curl, in local development
// only. `npm start` turns it on with a random secret; the production entry cannot.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ROLES, signToken } from '../auth/index.ts';
import { MatchId } from '../bus/index.ts';

const DEV_TOKEN_TTL_SECONDS = 15 * 60;

export async function devTokenRoutes(instance: FastifyInstance, { secret }: { secret: string }): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/dev/token',
    {
      schema: {
        querystring: Type.Object(
          {
            role: Type.Enum(ROLES, { default: 'admin' }),
            sub: Type.String({ minLength: 1, maxLength: 64, default: 'dev' }),
            rooms: Type.Optional(Type.Array(MatchId, { maxItems: 50 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => ({
      token: await signToken(
        secret,
        { sub: request.query.sub, role: request.query.role, rooms: request.query.rooms ?? [] },
        { expiresIn: `${DEV_TOKEN_TTL_SECONDS}s` },
      ),
      expiresIn: DEV_TOKEN_TTL_SECONDS,
    }),
  );
}
