import type { onRequestHookHandler } from 'fastify';
import { extractClientKey } from '../../security/client-auth.js';
import type { ClientKeyAuthenticator } from '../../security/client-keys.js';
import { createAuthenticateHook } from './authenticate.js';

export interface ClientKeyHookOptions {
  /** The current authenticator: a hot reload swaps it, so it is read per request. */
  authenticator: () => ClientKeyAuthenticator;
}

/**
 * Client-key authentication of the client API scope: the key from `Authorization: Bearer`,
 * `x-api-key`, `x-goog-api-key` or `?key=` (client-auth.ts); principals of source 'client-key'.
 */
export function createClientKeyHook(options: ClientKeyHookOptions): onRequestHookHandler {
  return createAuthenticateHook({
    authenticator: options.authenticator,
    presentedKey: (request) => extractClientKey(request.headers, request.url),
  });
}
