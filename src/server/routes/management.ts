import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';

/**
 * The management scope's paths. The management API and the metrics endpoint come with the
 * operations issue; until then every path here answers 404 `GW_NOT_FOUND`, and only after the
 * scope's authenticator let the request through: without a management key (a client key is none)
 * it is 401 like everything else in the scope, so an unauthenticated caller learns nothing about
 * which management paths exist.
 */
export function registerManagementRoutes(app: FastifyInstance): void {
  const notBuiltYet = (): never => {
    throw new GatewayError('GW_NOT_FOUND');
  };
  app.all('/metrics', notBuiltYet);
  app.all('/v0/management', notBuiltYet);
  app.all('/v0/management/*', notBuiltYet);
}
