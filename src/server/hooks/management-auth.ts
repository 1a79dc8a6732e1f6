import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import { recordManagementLoginFailure } from '../../management/audit.js';
import { managementReachableBy } from '../../management/remote-access.js';
import type { ManagementServices } from '../../management/services.js';
import { normaliseSocketAddress, rateLimitKey } from '../../net/ip-address.js';
import { extractManagementKey } from '../../security/management-keys.js';
import { sendGatewayError } from '../error-handler.js';
import type { Runtime } from '../runtime.js';
import { type AuthenticationEvents, authFailuresOf } from './authenticate.js';
import { clientAddressOf } from './network.js';

export interface ManagementAuthHookOptions {
  /** The current runtime (runtime.ts): a hot reload swaps its authenticator and `management` config, so both are read per request. */
  runtime: () => Runtime;
  services: ManagementServices;
  /** The audit log's authentication events (accepted, refused), as the client scope reports them. */
  events?: AuthenticationEvents;
  /** Unused here (the hook resolves the client IP itself); accepted so both hooks take the same audit options. */
  clientIp?: (request: FastifyRequest) => string | undefined;
}

/**
 * The management scope's authenticator hook (`/v0/management/*`, `/metrics`), before the body is
 * read. In this order, cheapest and least revealing first:
 * 1. management disabled (no keys): 401 `GW_UNAUTHORIZED` to everyone, as for any unknown key;
 * 2. the loopback rule (management/remote-access.ts) unless `management.allow_remote`: 403
 *    `GW_MANAGEMENT_REMOTE_REFUSED`, before any key is looked at;
 * 3. the lockout of the client IP (management/lockout.ts, shared through the state backend): 429
 *    `GW_MANAGEMENT_LOCKED_OUT` with Retry-After, even for the right key;
 * 4. no key presented: 401, not counted; a wrong key (a client key is one: the authenticator holds
 *    management keys only): 401 and counted, or 429 when it starts the lockout;
 * 5. else the principal (id, role) is set for the routes and the per-request record. A success does
 *    not clear the count: else one valid auditor key would buy unlimited guesses at an admin key.
 * The client IP is the one net/client-ip.ts resolves: an untrusted peer's X-Forwarded-For is never
 * read, so it neither dodges the lockout nor moves it onto another address.
 */
export function createManagementAuthHook(options: ManagementAuthHookOptions): onRequestHookHandler {
  const { runtime, services, events } = options;
  const refuse = (request: FastifyRequest, reply: FastifyReply, error: GatewayError): FastifyReply => sendGatewayError(request, reply, error);
  const lockedOut = (seconds: number) => new GatewayError('GW_MANAGEMENT_LOCKED_OUT', { retryAfterSeconds: seconds });
  // Why a key was refused, in the per-request record for the metrics' auth-failure counter.
  const failures = authFailuresOf('management');
  const recordFailure = (request: FastifyRequest, presented: string | undefined): void => {
    if (request.exchange !== undefined) request.exchange.authFailure = presented === undefined || presented === '' ? failures.missing : failures.invalid;
  };

  /** Resolves true once it answered (a refusal), false when the request may go on. */
  const decide = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    const current = runtime();
    const authenticator = current.managementAuthenticator;
    if (authenticator.size === 0) {
      // Disabled: the same 401 for everyone; the audit log still hears of the attempt.
      const presentedWhileOff = extractManagementKey(request.headers);
      events?.refused(presentedWhileOff === undefined || presentedWhileOff === '' ? 'missing key' : 'unknown key', 'management', clientAddressOf(request, current)?.address, request.id);
      recordFailure(request, presentedWhileOff);
      return answered(refuse(request, reply, new GatewayError('GW_UNAUTHORIZED')));
    }
    const management = current.loaded.config.management;
    const client = clientAddressOf(request, current);
    const peer = normaliseSocketAddress(request.raw.socket.remoteAddress)?.address;
    if (!managementReachableBy({ peer, client: client?.address }, management.allow_remote)) {
      return answered(refuse(request, reply, new GatewayError('GW_MANAGEMENT_REMOTE_REFUSED')));
    }
    const subject = client === undefined ? 'unknown' : rateLimitKey(client);
    const remaining = await services.lockout.lockedFor(subject);
    if (remaining !== undefined) return answered(refuse(request, reply, lockedOut(remaining)));

    const presented = extractManagementKey(request.headers);
    if (presented === undefined || presented === '') {
      events?.refused('missing key', 'management', client?.address, request.id);
      recordFailure(request, presented);
      return answered(refuse(request, reply, new GatewayError('GW_UNAUTHORIZED')));
    }
    const principal = authenticator.authenticate(presented);
    if (principal === undefined) {
      events?.refused('unknown key', 'management', client?.address, request.id);
      recordFailure(request, presented);
      const started = await services.lockout.recordFailure(subject, management.lockout);
      recordManagementLoginFailure(services.events, { ip: client?.address, reason: started === undefined ? 'unknown-key' : 'locked-out' });
      return answered(refuse(request, reply, started === undefined ? new GatewayError('GW_UNAUTHORIZED') : lockedOut(started)));
    }
    events?.accepted(principal, client?.address, request.id);
    request.principal = principal;
    if (request.exchange !== undefined) request.exchange.principal = principal;
    return false;
  };
  // Callback style: the lockout reads the state backend (a Redis round trip with several replicas).
  return (request, reply, done) => {
    decide(request, reply).then(
      (refused) => {
        if (!refused) done();
      },
      (error: unknown) => done(error as Error),
    );
  };
}

const answered = (_reply: FastifyReply): true => true;
