import type { onRequestHookHandler } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import type { KeyAuthenticator } from '../../security/key-authenticator.js';
import { extractManagementKey } from '../../security/management-keys.js';
import { sendGatewayError } from '../error-handler.js';

export interface ManagementAuthHookOptions {
  /** The current management authenticator (runtime.ts): a hot reload swaps it, so it is read per request. */
  authenticator: () => KeyAuthenticator;
}

/**
 * The management scope's authenticator hook (`/v0/management/*`, `/metrics`), before the body is
 * read. It asks only the management authenticator, which holds management keys and nothing else:
 * a client key, wherever it is sent, is an unknown key here and gets 401 `GW_UNAUTHORIZED`, the
 * same answer as no key. While management is disabled every request gets that 401.
 */
export function createManagementAuthHook(options: ManagementAuthHookOptions): onRequestHookHandler {
  const { authenticator } = options;
  return (request, reply, done) => {
    const principal = authenticator().authenticate(extractManagementKey(request.headers));
    if (principal === undefined) {
      sendGatewayError(request, reply, new GatewayError('GW_UNAUTHORIZED'));
      return;
    }
    request.principal = principal;
    if (request.exchange !== undefined) request.exchange.principal = principal;
    done();
  };
}
