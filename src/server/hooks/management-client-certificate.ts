import type { TLSSocket } from 'node:tls';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import { sendGatewayError } from '../error-handler.js';
import type { ExchangeAuthFailure } from '../exchange.js';
import type { AuthenticationEvents } from './authenticate.js';

export interface ManagementClientCertificateHookOptions {
  /** The audit log's authentication events: a refusal here is an `auth-failure` like a wrong key. */
  events?: AuthenticationEvents;
  /** The client's address as resolved for the IP filter (trusted proxies applied), for the events. */
  clientIp?: (request: FastifyRequest) => string | undefined;
}

/** Recorded in the per-request record (the metrics' `cliproxy_auth_failures_total{reason="client_certificate"}`). */
const certificateFailure: ExchangeAuthFailure = Object.freeze({ scope: 'management', reason: 'client_certificate' });

/**
 * mTLS for the management scope (`/v0/management/*`, `/metrics`), on when
 * `server.tls.management_client_ca_file` is set. The listener then asks every client for a
 * certificate (`requestCert`) but does not refuse the handshake without one (`rejectUnauthorized:
 * false`): the client API on the same port is used by SDKs and CLIs that have none. The decision
 * is made here, per scope: OpenSSL has already verified the presented chain against the management
 * CA only (the listener's `ca`), dates included, and put the verdict in `socket.authorized`. No
 * certificate, one from another CA, an expired or a self-signed one → 403
 * `GW_CLIENT_CERTIFICATE_REQUIRED`, before the management key is read; a verified one goes on to
 * the key check (a certificate is a second factor, not a replacement for the key).
 *
 * A refusal is an authentication failure: an `auth-failure` audit record (scope `management`,
 * reason `missing client certificate` or `unverified client certificate`, the client IP) and the
 * auth-failure counter, which the alert rules' `auth_failures` read. Someone probing the
 * management API from outside without the CA's certificate is what an operator wants to see.
 */
export function createManagementClientCertificateHook(options: ManagementClientCertificateHookOptions = {}): onRequestHookHandler {
  const { events, clientIp } = options;
  return (request, reply, done) => {
    const socket = request.raw.socket as Partial<TLSSocket>;
    if (socket.authorized === true) return done();
    if (request.exchange !== undefined) request.exchange.authFailure = certificateFailure;
    if (events !== undefined) {
      // Only on a refusal: an empty object when the client sent no certificate at all.
      const presented = typeof socket.getPeerCertificate === 'function' && Object.keys(socket.getPeerCertificate()).length > 0;
      events.refused(presented ? 'unverified client certificate' : 'missing client certificate', 'management', clientIp?.(request), request.id);
    }
    sendGatewayError(request, reply, new GatewayError('GW_CLIENT_CERTIFICATE_REQUIRED'));
  };
}
