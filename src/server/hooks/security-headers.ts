import type { onRequestHookHandler } from 'fastify';

/**
 * Security response headers on every answer: health checks, refusals from any later hook (401,
 * 403, 404, 413, 429, 503), the error handler's answers and streams (the stream relay spreads the
 * reply's headers into its `writeHead`). Set in the first hooks, so no later refusal can skip them.
 *
 * The gateway serves JSON and SSE to API clients, never HTML, so the policy is the most closed one:
 * nothing may be framed, embedded, sniffed, cached or sent a referrer. A browser that somehow
 * renders an answer (an error body with a client-controlled string in it) gets no script to run.
 *
 * `X-XSS-Protection: 0`, not `1; mode=block`: the filter it controlled is gone from every current
 * browser, and in the old ones that had it, `mode=block` could be abused to blank or probe a page
 * (XS-Search); OWASP's Secure Headers Project recommends `0` and a Content-Security-Policy instead.
 * No `X-Powered-By`: Fastify sends none, and nothing here adds one.
 *
 * The block is computed once at start (create-app.ts); per request the hook only copies it (no
 * object built). The same block goes to client-error.ts, whose raw 431/408 answers no hook reaches.
 */

export interface SecurityHeadersOptions {
  /** The listener is HTTPS: only then is HSTS sent (over plain HTTP a browser must ignore it, and it would mislead). */
  tls: boolean;
  /** `server.security.headers.hsts_max_age`, in seconds; 0 sends `max-age=0`, which tells browsers to forget the policy. */
  hstsMaxAgeSeconds: number;
}

/** Name–value pairs, lower-case names (Fastify's own spelling), in a fixed order. */
export type SecurityHeaderBlock = readonly (readonly [string, string])[];

/** The headers for a listener. */
export function securityHeaderBlock(options: SecurityHeadersOptions): SecurityHeaderBlock {
  const block: [string, string][] = [
    ['x-content-type-options', 'nosniff'],
    ['x-frame-options', 'DENY'],
    ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
    ['referrer-policy', 'no-referrer'],
    ['cache-control', 'no-store'],
    ['x-xss-protection', '0'],
  ];
  if (options.tls) block.unshift(['strict-transport-security', `max-age=${options.hstsMaxAgeSeconds}; includeSubDomains`]);
  return block;
}

export function createSecurityHeadersHook(block: SecurityHeaderBlock): onRequestHookHandler {
  const names = block.map(([name]) => name);
  const values = block.map(([, value]) => value);
  const count = names.length;
  return function securityHeaders(_request, reply, done) {
    for (let index = 0; index < count; index++) void reply.header(names[index]!, values[index]);
    done();
  };
}
