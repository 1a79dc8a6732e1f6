import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { expositionContentType } from '../metrics/exposition.js';

/**
 * The optional second listener (`metrics.listener`): `GET /metrics` without a key, for a Prometheus
 * on the same host. Config validation allows loopback hosts only, so the numbers (which carry no
 * secret, but do show traffic and refusals) never leave the machine without the management key.
 * Plain `node:http` and nothing else: no client API, no management route, every other path 404.
 */
export interface MetricsListener {
  /** `http://host:port/metrics` of the bound socket. */
  readonly url: string;
  close(): Promise<void>;
}

/** Time a scraper has to send its request head, in milliseconds. */
const headersTimeoutMs = 5_000;

export async function startMetricsListener(options: { host: string; port: number; render: () => string | Promise<string> }): Promise<MetricsListener> {
  const server: Server = createServer({ maxHeaderSize: 8_192 }, (request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    Promise.resolve()
      .then(() => options.render())
      .then(
        (body) => {
          response.writeHead(200, { 'content-type': expositionContentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
          response.end(request.method === 'HEAD' ? undefined : body);
        },
        () => response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable\n'),
      );
  });
  server.headersTimeout = headersTimeoutMs;
  server.requestTimeout = headersTimeoutMs * 2;
  server.keepAliveTimeout = 5_000;
  server.listen(options.port, options.host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error as Error))]);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
