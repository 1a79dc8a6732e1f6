import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import type { NetworkCounters } from '../../limits/counters.js';
import type { IpRateLimiter } from '../../limits/ip-rate-limiter.js';
import { rateLimitedError, type RefusedTake } from '../../limits/rate-limited-error.js';
import { rateLimitKey, type NormalisedAddress } from '../../net/ip-address.js';
import { sendGatewayError } from '../error-handler.js';
import type { Runtime } from '../runtime.js';

/**
 * The network layer's two request hooks, before the client key (DESIGN.md: IP filter → per-IP
 * limit → client key), both before a byte of the body is read. `/healthz` and `/readyz` never
 * reach them (probes come from anywhere: a load balancer outside the allowlist must still see a
 * healthy gateway).
 */

/**
 * The client's address, computed once per request and kept on it (the first caller pays: the
 * per-request record's hook or the IP filter). From a trusted proxy it comes from the forwarding
 * headers (net/client-ip.ts); undefined only when the socket is already gone.
 */
export function clientAddressOf(request: FastifyRequest, runtime: Runtime): NormalisedAddress | undefined {
  let address = request.clientAddress;
  if (address === null) {
    address = runtime.network.clientIp.resolve(request.raw.socket.remoteAddress, request.headers);
    request.clientAddress = address;
  }
  return address;
}

export interface NetworkHookOptions {
  runtime: () => Runtime;
  counters: NetworkCounters;
}

/** Dynamic bans → denylist → allowlist (net/ip-filter.ts): 403 GW_IP_BLOCKED or GW_IP_NOT_ALLOWED. */
export function createIpFilterHook(options: NetworkHookOptions): onRequestHookHandler {
  const { runtime, counters } = options;
  return (request, reply, done) => {
    const current = runtime();
    const client = clientAddressOf(request, current);
    if (client === undefined) return done();
    const verdict = current.network.ipFilter.check(client);
    if (verdict === 'allowed') return done();
    if (verdict === 'not-allowed') {
      counters.ipNotAllowed += 1;
      sendGatewayError(request, reply, new GatewayError('GW_IP_NOT_ALLOWED'));
      return;
    }
    counters.ipBlocked += 1;
    sendGatewayError(request, reply, new GatewayError('GW_IP_BLOCKED'));
  };
}

export interface IpRateLimitHookOptions extends NetworkHookOptions {
  limiter: IpRateLimiter;
}

/**
 * The per-IP token bucket (`server.security.rate_limit`; IPv6 per /64). With the memory backend
 * the decision is synchronous; with Redis it is one atomic script (or this process's buckets when
 * Redis is unreachable, see limits/ip-rate-limiter.ts).
 */
export function createIpRateLimitHook(options: IpRateLimitHookOptions): onRequestHookHandler {
  const { runtime, counters, limiter } = options;
  const refuse = (request: FastifyRequest, reply: FastifyReply, refused: RefusedTake): void => {
    counters.ipRateLimited += 1;
    sendGatewayError(request, reply, rateLimitedError(refused));
  };
  return (request, reply, done) => {
    const current = runtime();
    const config = current.loaded.config.server.security.rate_limit;
    if (!config.enabled) return done();
    const client = clientAddressOf(request, current);
    if (client === undefined) return done();
    const key = rateLimitKey(client);
    const shape = limiter.shapeOf(config);
    if (limiter.shared === undefined) {
      const refused = limiter.takeLocal(key, shape);
      if (refused === undefined) return done();
      refuse(request, reply, refused);
      return;
    }
    limiter.takeShared(key, shape).then(
      (refused) => (refused === undefined ? done() : refuse(request, reply, refused)),
      (error: unknown) => done(error as Error),
    );
  };
}
