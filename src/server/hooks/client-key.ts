import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { extractClientKey } from '../../security/client-auth.js';
import type { ClientKeyAuthenticator } from '../../security/client-keys.js';
import { createAuthenticateHook, type AuthenticationEvents } from './authenticate.js';

export interface ClientKeyHookOptions {
  /** The current authenticator: a hot reload swaps it, so it is read per request. */
  authenticator: () => ClientKeyAuthenticator;
  /** The audit log's authentication events, and the client address they carry. */
  events?: AuthenticationEvents;
  clientIp?: (request: FastifyRequest) => string | undefined;
}

/**
 * Client-key authentication of the client API scope: the key from `Authorization: Bearer`,
 * `x-api-key`, `x-goog-api-key` or `?key=` (client-auth.ts); principals of source 'client-key'.
 */
export function createClientKeyHook(options: ClientKeyHookOptions): onRequestHookHandler {
  return createAuthenticateHook({
    authenticator: options.authenticator,
    scope: 'client',
    ...(options.events === undefined ? {} : { events: options.events }),
    ...(options.clientIp === undefined ? {} : { clientIp: options.clientIp }),
    presentedKey: (request) => extractClientKey(request.headers, request.url),
  });
}
