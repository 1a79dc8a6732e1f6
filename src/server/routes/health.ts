import type { FastifyInstance } from 'fastify';

/**
 * Liveness and readiness. Unauthenticated, so they reveal nothing: no version, no config, no
 * provider names. `/readyz` turns 503 once shutdown begins so a load balancer drains the instance.
 */
export function registerHealthRoutes(app: FastifyInstance, isShuttingDown: () => boolean): void {
  app.get('/healthz', async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (isShuttingDown()) return reply.code(503).header('cache-control', 'no-store').send({ status: 'shutting_down' });
    return reply.header('cache-control', 'no-store').send({ status: 'ready' });
  });
}
