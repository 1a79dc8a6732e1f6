import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import { expositionContentType } from '../../metrics/exposition.js';

/**
 * `GET /metrics` in the management scope: reached only after the scope's authenticator accepted a
 * management key (of any role; Prometheus sends it as `Authorization: Bearer`, its
 * `authorization.credentials_file`). A client key is an unknown key there. With `metrics.enabled`
 * false, or for a method other than GET/HEAD, the path answers 404 like any unknown management path.
 * Under `serve --workers N` `render` gathers every worker's numbers (cluster/metrics-gathering.ts).
 */
export function registerMetricsRoute(app: FastifyInstance, render: (() => string | Promise<string>) | undefined): void {
  app.all('/metrics', async (request, reply) => {
    if (render === undefined || (request.method !== 'GET' && request.method !== 'HEAD')) throw new GatewayError('GW_NOT_FOUND');
    // no-store: the numbers describe this instant (the security-headers hook sets it too, when on).
    const text = await render();
    return reply.header('content-type', expositionContentType).header('cache-control', 'no-store').send(text);
  });
}
