import type { TLSSocket } from 'node:tls';
import type { onRequestHookHandler } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import { sendGatewayError } from '../error-handler.js';

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
 */
export function createManagementClientCertificateHook(): onRequestHookHandler {
  return (request, reply, done) => {
    const socket = request.raw.socket as Partial<TLSSocket>;
    if (socket.authorized === true) return done();
    sendGatewayError(request, reply, new GatewayError('GW_CLIENT_CERTIFICATE_REQUIRED'));
  };
}
