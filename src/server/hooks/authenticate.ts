import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import type { Principal } from '../../security/principal.js';
import { sendGatewayError } from '../error-handler.js';

export interface AuthenticateHookOptions {
  /** The scope's current authenticator: a hot reload swaps it, so it is read per request. */
  authenticator: () => { authenticate(presentedKey: string | undefined): Principal | undefined };
  /** Where this scope reads the presented key from (the client scope and the management scope differ). */
  presentedKey: (request: FastifyRequest) => string | undefined;
}

/**
 * The one authentication hook behind every scope's authenticator (client-key.ts, management-auth.ts),
 * run before the body is read (onRequest): an unknown or missing key gets 401 `GW_UNAUTHORIZED`
 * without a byte of its body parsed, and the connection is closed rather than drained
 * (`sendGatewayError` closes any answer that leaves a body unread). The principal, built once per
 * key by the authenticator, is kept on the request and in the per-request record for every later
 * layer (scopes and budgets, the access log, audit).
 */
export function createAuthenticateHook(options: AuthenticateHookOptions): onRequestHookHandler {
  const { authenticator, presentedKey } = options;
  return (request, reply, done) => {
    const principal = authenticator().authenticate(presentedKey(request));
    if (principal === undefined) {
      sendGatewayError(request, reply, new GatewayError('GW_UNAUTHORIZED'));
      return;
    }
    request.principal = principal;
    if (request.exchange !== undefined) request.exchange.principal = principal;
    done();
  };
}
