import { isIP } from 'node:net';

/**
 * The management API's loopback rule. With `management.allow_remote` off (the default) a request is
 * served only when BOTH the socket's peer and the client IP (after the trusted-proxy rules,
 * net/client-ip.ts) are loopback: a reverse proxy on the same host forwarding a remote client is
 * refused (the client is remote), and so is a remote peer whatever it writes in X-Forwarded-For
 * (an untrusted peer's header is never read, so the client IP is the peer).
 *
 * Addresses arrive normalised (net/ip-address.ts: `::ffff:127.0.0.1` is already `127.0.0.1`).
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const family = isIP(address);
  if (family === 4) return address.startsWith('127.');
  if (family === 6) return address === '::1' || address === '0:0:0:0:0:0:0:1';
  return false;
}

export interface ManagementCaller {
  /** The socket's peer, normalised. */
  readonly peer: string | undefined;
  /** The client IP after the trusted-proxy rules. */
  readonly client: string | undefined;
}

/** Whether the loopback rule lets this caller in. `allowRemote` is only ever true with TLS on (config rule). */
export function managementReachableBy(caller: ManagementCaller, allowRemote: boolean): boolean {
  return allowRemote || (isLoopbackAddress(caller.peer) && isLoopbackAddress(caller.client));
}
