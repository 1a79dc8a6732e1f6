import type { onRequestHookHandler } from 'fastify';

/**
 * CORS for browser clients of the client API, off unless `server.security.cors.allowed_origins`
 * lists origins. Off means no hook at all: a browser page on any origin then cannot read an answer
 * (no `Access-Control-Allow-Origin`) and its preflight gets the 401 every keyless request gets.
 *
 * On: a request whose `Origin` is listed exactly gets `Access-Control-Allow-Origin: <that origin>`
 * and `Vary: Origin`; its preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered
 * 204 here, before the client-key hook (a preflight never carries the key). An origin not listed
 * gets nothing, and its preflight goes on to the 401. No wildcard (config validation refuses `*`)
 * and no `Access-Control-Allow-Credentials`: the API is authenticated by a header the page sends
 * itself, never by cookies, so credentials mode is never needed.
 *
 * Runs after the IP filter and per-IP limit, so a blocked address gets no CORS answer either.
 */

/** What a browser client of the OpenAI and Anthropic APIs sends (the SDKs' `dangerouslyAllowBrowser` mode included). */
const allowedRequestHeaders = [
  'authorization',
  'content-type',
  'x-api-key',
  'x-goog-api-key',
  'x-request-id',
  'anthropic-version',
  'anthropic-beta',
  'anthropic-dangerous-direct-browser-access',
  'openai-organization',
  'openai-project',
].join(', ');

/** Preflight answers are cached this long by the browser, in seconds (10 min). */
const preflightMaxAgeSeconds = 600;

export function createCorsHook(options: { allowedOrigins: readonly string[] }): onRequestHookHandler | undefined {
  if (options.allowedOrigins.length === 0) return undefined;
  const allowed = new Set(options.allowedOrigins);
  return function cors(request, reply, done) {
    const origin = request.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return done();
    void reply.header('access-control-allow-origin', origin);
    void reply.header('vary', 'Origin');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      void reply
        .code(204)
        .header('access-control-allow-methods', 'GET, POST, OPTIONS')
        .header('access-control-allow-headers', allowedRequestHeaders)
        .header('access-control-expose-headers', 'x-request-id, retry-after')
        .header('access-control-max-age', String(preflightMaxAgeSeconds))
        .send();
      return; // answered: the key and body checks are for the request that follows
    }
    done();
  };
}
