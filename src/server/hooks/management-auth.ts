import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { KeyAuthenticator } from '../../security/key-authenticator.js';
import { extractManagementKey } from '../../security/management-keys.js';
import { createAuthenticateHook, type AuthenticationEvents } from './authenticate.js';

export interface ManagementAuthHookOptions {
  /** The current management authenticator (runtime.ts): a hot reload swaps it, so it is read per request. */
  authenticator: () => KeyAuthenticator;
  /** The audit log's authentication events, and the client address they carry. */
  events?: AuthenticationEvents;
  clientIp?: (request: FastifyRequest) => string | undefined;
}

/**
 * The management scope's authenticator hook (`/v0/management/*`, `/metrics`). It asks only the
 * management authenticator, which holds management keys and nothing else: a client key, wherever
 * it is sent, is an unknown key here and gets 401 `GW_UNAUTHORIZED`, the same answer as no key.
 * While management is disabled every request gets that 401.
 */
export function createManagementAuthHook(options: ManagementAuthHookOptions): onRequestHookHandler {
  return createAuthenticateHook({
    authenticator: options.authenticator,
    scope: 'management',
    ...(options.events === undefined ? {} : { events: options.events }),
    ...(options.clientIp === undefined ? {} : { clientIp: options.clientIp }),
    presentedKey: (request) => extractManagementKey(request.headers),
  });
}
