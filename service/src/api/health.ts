// Liveness and readiness. /healthz: the process answers. /readyz: Redis is reachable, the
// stream reader completed a read within two read blocks, and the instance is not draining.
import type { FastifyInstance } from 'fastify';
import type { RealtimeBus } from '../bus/index.ts';

export interface Readiness {
  readonly ready: boolean;
  readonly reasons: string[];
}

export function readiness(bus: RealtimeBus, readBlockMs: number, draining: boolean, now = Date.now()): Readiness {
  const reasons: string[] = [];
  if (draining) reasons.push('shutting down');
  if (!bus.redisReady) reasons.push('redis unreachable');
  const lastRead = bus.lastReadAt;
  if (lastRead === undefined) reasons.push('stream reader has not read yet');
  else if (now - lastRead > 2 * readBlockMs)
    reasons.push(`stream reader last read ${Math.round((now - lastRead) / 1000)} s ago`);
  return { ready: reasons.length === 0, reasons };
}

export async function healthRoutes(
  app: FastifyInstance,
  options: { bus: RealtimeBus; readBlockMs: number; draining: () => boolean },
): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const state = readiness(options.bus, options.readBlockMs, options.draining());
    return reply
      .code(state.ready ? 200 : 503)
      .send(state.ready ? { status: 'ready' } : { status: 'not ready', reasons: state.reasons });
  });
}
