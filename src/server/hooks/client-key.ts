import type { onRequestHookHandler } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import { extractClientKey } from '../../security/client-auth.js';
import type { ClientKeyAuthenticator } from '../../security/client-keys.js';
import { sendGatewayError } from '../error-handler.js';

export interface ClientKeyHookOptions {
  /** The current authenticator: a hot reload swaps it, so it is read per request. */
  authenticator: () => ClientKeyAuthenticator;
}

/**
 * Client-key authentication, before the body is read (onRequest): an unauthenticated client gets
 * 401 `GW_UNAUTHORIZED` without a byte of its body parsed, and the connection is closed rather than
 * drained (`sendGatewayError` closes any answer that leaves a body unread). The principal
 * (`{ id, source: 'client-key', policy }`, built once per key) is kept on the request and in the
 * per-request record for every later layer (scopes and budgets, the access log, audit).
 */
export function createClientKeyHook(options: ClientKeyHookOptions): onRequestHookHandler {
  const { authenticator } = options;
  return (request, reply, done) => {
    const principal = authenticator().authenticate(extractClientKey(request.headers, request.url));
    if (principal === undefined) {
      sendGatewayError(request, reply, new GatewayError('GW_UNAUTHORIZED'));
      return;
    }
    request.principal = principal;
    if (request.exchange !== undefined) request.exchange.principal = principal;
    done();
  };
}
