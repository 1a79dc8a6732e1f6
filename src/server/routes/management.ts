import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import { recordManagementCall } from '../../management/audit.js';
import type { ManagementServices } from '../../management/services.js';
import type { Runtime } from '../runtime.js';
import { registerManagementEndpoints } from './management-endpoint.js';
import { loginEndpoints } from './management-logins.js';
import { operationEndpoints } from './management-operations.js';
import { secretEndpoints } from './management-secrets.js';

export interface ManagementRouteOptions {
  runtime: () => Runtime;
  services: ManagementServices;
}

/** Every endpoint of `/v0/management`, in one list (docs/operations.md has the same table). */
export const managementEndpoints = [...operationEndpoints, ...secretEndpoints, ...loginEndpoints];

/**
 * The management scope's paths, all behind its authenticator hook (hooks/management-auth.ts). The
 * API lives in a child scope with the prefix `/v0/management`, whose response hook records every
 * call (allowed or refused, the 401s before any key was accepted included) through the security
 * event sink: one line here, so no endpoint can skip it. `/metrics` (routes/metrics.ts, registered
 * beside this) stays outside that child, so a Prometheus scrape every 15 s does not flood the audit log. An unknown management path is 404,
 * and only after the authenticator let the request through: an unauthenticated caller learns
 * nothing about which management paths exist.
 */
export function registerManagementRoutes(app: FastifyInstance, options: ManagementRouteOptions): void {
  const notFound = (): never => {
    throw new GatewayError('GW_NOT_FOUND');
  };
  app.register(
    (scope, _options, done) => {
      scope.addHook('onResponse', (request, reply, next) => {
        recordManagementCall(options.services.events, {
          actor: `management:${request.principal?.id ?? '-'}`,
          method: request.method,
          route: request.routeOptions.url ?? request.url.split('?')[0] ?? '',
          status: reply.statusCode,
          ip: request.clientAddress?.address,
          code: request.gatewayErrorCode,
        });
        next();
      });
      registerManagementEndpoints(scope, managementEndpoints, options);
      scope.all('/', notFound);
      scope.all('/*', notFound);
      done();
    },
    { prefix: '/v0/management' },
  );
}
