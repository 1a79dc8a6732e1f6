import type { Socket } from 'node:net';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import type { Principal } from '../../security/principal.js';
import { sendGatewayError } from '../error-handler.js';
import type { ExchangeAuthFailure } from '../exchange.js';

/**
 * Who hears of each authentication (the audit log, src/audit/request-audit.ts, wired by main.ts).
 * Called synchronously: it must only queue.
 */
export interface AuthenticationEvents {
  accepted(principal: Principal, ip: string | undefined, requestId: string): void;
  /** The certificate reasons come from the management scope's mTLS (management-client-certificate.ts). */
  refused(reason: 'missing key' | 'unknown key' | 'missing client certificate' | 'unverified client certificate' | 'expired key' | 'disabled key', scope: 'client' | 'management', ip: string | undefined, requestId: string): void;
}

export interface AuthenticateHookOptions {
  /** The scope's current authenticator: a hot reload swaps it, so it is read per request. */
  authenticator: () => { authenticate(presentedKey: string | undefined): Principal | undefined };
  /** Where this scope reads the presented key from (the client scope and the management scope differ). */
  presentedKey: (request: FastifyRequest) => string | undefined;
  /** Which scope this hook guards: for the events, and recorded with a refusal (metrics). */
  scope: ExchangeAuthFailure['scope'];
  events?: AuthenticationEvents;
  /** The client's address as resolved for the IP filter (trusted proxies applied), for the events. */
  clientIp?: (request: FastifyRequest) => string | undefined;
}

/** The two refusals of a scope, built once: the per-request record keeps a reference, no allocation per refusal. */
export function authFailuresOf(scope: ExchangeAuthFailure['scope']): { missing: ExchangeAuthFailure; invalid: ExchangeAuthFailure; expired: ExchangeAuthFailure; disabled: ExchangeAuthFailure } {
  return {
    missing: Object.freeze({ scope, reason: 'missing_key' }),
    invalid: Object.freeze({ scope, reason: 'invalid_key' }),
    expired: Object.freeze({ scope, reason: 'expired_key' }),
    disabled: Object.freeze({ scope, reason: 'disabled_key' }),
  };
}

/**
 * The authentication hook of the client API scope (client-key.ts; the management scope has its own,
 * management-auth.ts, which adds the loopback rule and the login lockout), run before the body is
 * read (onRequest): an unknown or missing key gets 401 `GW_UNAUTHORIZED`
 * without a byte of its body parsed, and the connection is closed rather than drained
 * (`sendGatewayError` closes any answer that leaves a body unread). The principal, built once per
 * key by the authenticator, is kept on the request and in the per-request record for every later
 * layer (scopes and budgets, the access log, audit). A connection's last accepted key is kept so
 * the next request on it skips the hash (LastAuthentication below).
 */
export function createAuthenticateHook(options: AuthenticateHookOptions): onRequestHookHandler {
  const { authenticator, presentedKey, events, scope } = options;
  const clientIp = options.clientIp ?? ((request: FastifyRequest) => request.exchange?.clientIp);
  const failures = authFailuresOf(scope);
  const lastOnConnection = new WeakMap<Socket, LastAuthentication>();
  return (request, reply, done) => {
    const current = authenticator();
    const presented = presentedKey(request);
    const socket = request.raw.socket;
    const last = lastOnConnection.get(socket);
    let principal: Principal | undefined;
    if (last !== undefined && last.authenticator === current && presented !== undefined && sameKey(presented, last.key)) principal = last.principal;
    else {
      principal = current.authenticate(presented);
      if (principal !== undefined && presented !== undefined) lastOnConnection.set(socket, { authenticator: current, key: presented, principal });
    }
    if (principal === undefined) {
      events?.refused(presented === undefined ? 'missing key' : 'unknown key', scope, clientIp(request), request.id);
      // A missing key is a misconfigured client; a wrong one is a guess (alert rules count only those).
      if (request.exchange !== undefined) request.exchange.authFailure = presented === undefined ? failures.missing : failures.invalid;
      sendGatewayError(request, reply, new GatewayError('GW_UNAUTHORIZED'));
      return;
    }
    // A key past its expires_at or disabled (key-policy.ts) is known but refused: 401 saying so.
    // Read per request (not at authentication), so a kept connection stops working at the expiry.
    const policy = principal.policy;
    if (policy.disabled === true || (policy.expiresAt !== undefined && Date.now() >= policy.expiresAt)) {
      const disabled = policy.disabled === true;
      events?.refused(disabled ? 'disabled key' : 'expired key', scope, clientIp(request), request.id);
      if (request.exchange !== undefined) {
        request.exchange.principal = principal;
        request.exchange.authFailure = disabled ? failures.disabled : failures.expired;
      }
      sendGatewayError(request, reply, new GatewayError(disabled ? 'GW_KEY_DISABLED' : 'GW_KEY_EXPIRED'));
      return;
    }
    events?.accepted(principal, clientIp(request), request.id);
    request.principal = principal;
    if (request.exchange !== undefined) request.exchange.principal = principal;
    done();
  };
}

/**
 * The key that last authenticated on a connection, under the authenticator that accepted it.
 * A keep-alive client sends the same key on every request: comparing it with this one in constant
 * time replaces the SHA-256 and the digest comparisons (~1.5–3 µs per request). Safe because:
 * - only a key the authenticator accepted is kept, with that authenticator: after a reload or a
 *   revocation (a new authenticator) the next request is checked in full again;
 * - the comparison's time depends only on the presented key's length (`sameKey`), so a request on
 *   a connection shared by several clients (a reverse proxy's keep-alive pool) learns nothing of
 *   the key kept there;
 * - one entry per open connection, dropped with it (WeakMap): memory is bounded by the connection cap.
 */
interface LastAuthentication {
  readonly authenticator: object;
  readonly key: string;
  readonly principal: Principal;
}

/**
 * Constant-time string equality: every character of the presented key is compared, whatever the
 * first difference, and a length difference is folded in rather than returned early.
 */
export function sameKey(presented: string, kept: string): boolean {
  let difference = presented.length ^ kept.length;
  for (let index = 0; index < presented.length; index += 1) {
    // Past the kept key's end charCodeAt gives NaN, `| 0` makes it 0; the length already differs.
    difference |= presented.charCodeAt(index) ^ (kept.charCodeAt(index) | 0);
  }
  return difference === 0;
}
