import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { compileAddressList, type AddressList } from '../net/address-list.js';
import { normaliseSocketAddress, type NormalisedAddress } from '../net/ip-address.js';

/**
 * Per-IP connection cap: `server.max_connections_per_ip` open sockets per client address. One more
 * is destroyed at accept, before Node's HTTP parser reads a byte of it: no request object, no
 * hook, no log line per refused socket (a flood would otherwise turn into a log flood). The
 * per-IP request limit cannot stop a client that opens thousands of sockets and sends nothing
 * (each costs a file descriptor and memory until `headers_ms` runs out); this does.
 *
 * Counted by the socket's address, normalised as every IP decision is (net/ip-address.ts:
 * `::ffff:10.0.0.1` is `10.0.0.1`, so one client cannot hold twice the cap through both spellings),
 * since no header exists at accept. Connections from a trusted proxy are not capped (`isExempt`):
 * every client behind it shares its address.
 *
 * The map holds one entry per address with an open connection and no more: an entry is deleted
 * when its last socket closes, so an address spray cannot grow it beyond the open sockets.
 */

export interface ConnectionCapOptions {
  /** Read at each accept, so a hot reload applies to the next connection. 0 = no cap. */
  maxPerAddress: () => number;
  /** True for a peer that is not capped (a trusted proxy). */
  isExempt?: (address: NormalisedAddress) => boolean;
  /** Called once per refused socket (a counter); never logs by itself. */
  onRefused?: (address: string) => void;
}

export interface ConnectionCap {
  /** Open connections counted for an address now (for tests and metrics). */
  openFrom(address: string): number;
  /** Addresses with at least one open connection. */
  readonly addresses: number;
}

/**
 * Installs the cap on `server`. Registered first among the `connection` listeners (before Node's
 * own, which attaches the HTTP parser), so a refused socket never gets one that reads.
 */
export function installConnectionCap(server: Server, options: ConnectionCapOptions): ConnectionCap {
  const open = new Map<string, number>();
  server.prependListener('connection', (socket: Socket) => {
    const max = options.maxPerAddress();
    const peer = normaliseSocketAddress(socket.remoteAddress);
    if (max === 0 || peer === undefined || options.isExempt?.(peer) === true) return;
    const address = peer.address;
    const current = open.get(address) ?? 0;
    if (current >= max) {
      options.onRefused?.(address);
      socket.destroy();
      return;
    }
    open.set(address, current + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
  return {
    openFrom: (address) => open.get(address) ?? 0,
    get addresses() {
      return open.size;
    },
  };
}

/**
 * `isExempt` for `server.trusted_proxies`: compiled once per list (the loaded config is frozen, so a
 * reload brings a new array and a fresh compile), with the same rules as client IP resolution.
 */
export function trustedProxyExemption(trustedProxies: () => readonly string[]): (address: NormalisedAddress) => boolean {
  let compiledFor: readonly string[] | undefined;
  let list: AddressList | undefined;
  return (address) => {
    const current = trustedProxies();
    if (current !== compiledFor) {
      compiledFor = current;
      list = current.length === 0 ? undefined : compileAddressList(current);
    }
    return list !== undefined && list.check(address);
  };
}
