import type { Principal } from '../security/principal.js';
import type { NormalisedAddress } from '../net/ip-address.js';
import type { Exchange } from './exchange.js';

/** Per-request fields the hooks and handlers share; declared once so every file sees the same types. */
declare module 'fastify' {
  interface FastifyRequest {
    /** The client's original body bytes, kept for same-format pass-through. */
    rawBody: Buffer | undefined;
    /** Who the request acts as: set by the scope's authenticator hook (client key or management key). */
    principal: Principal | undefined;
    /** The provider the request was routed to, for the access log. */
    routedProvider: string | undefined;
    /** The catalog code of the error answered, for the access log. */
    gatewayErrorCode: string | undefined;
    /**
     * The client's address (hooks/network.ts `clientAddressOf`): null until first asked, then the
     * resolved address (undefined when the socket was already gone).
     */
    clientAddress: NormalisedAddress | undefined | null;
    /** The per-request record (exchange.ts); undefined when no observer is registered. */
    exchange: Exchange | undefined;
  }
}

export {};
