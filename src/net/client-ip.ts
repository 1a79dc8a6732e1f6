import type { IncomingHttpHeaders } from 'node:http';
import { compileAddressList } from './address-list.js';
import { normaliseSocketAddress, parseForwardedAddress, type NormalisedAddress } from './ip-address.js';

/**
 * The client's address, decided once per request (DESIGN.md: "client IP (trusted_proxies decide
 * if X-Forwarded-For counts)").
 *
 * - The socket's peer, normalised (ip-address.ts), unless that peer is a trusted proxy.
 * - From a trusted proxy: the forwarding header's hops are read right to left (the right end is
 *   what the nearest proxy appended; everything left of it is whatever the client wrote). The
 *   first hop that is not itself a trusted proxy is the client. A hop that does not parse stops
 *   the walk: the client is then the last trusted hop seen, never a value from further left.
 * - `X-Forwarded-For` and `Forwarded: for=` both count, but a request carrying both is ambiguous
 *   (the proxy appends to one; the client may have invented the other), so neither is believed and
 *   the trusted peer itself is the client.
 */
export interface ClientIpResolver {
  /** True when some proxy is trusted, i.e. headers can matter at all. */
  readonly readsHeaders: boolean;
  resolve(socketAddress: string | undefined, headers: IncomingHttpHeaders): NormalisedAddress | undefined;
}

/** Compiles `server.trusted_proxies` (validated IPs/CIDRs) once: at start and on each reload. */
export function createClientIpResolver(trustedProxies: readonly string[]): ClientIpResolver {
  if (trustedProxies.length === 0) {
    return { readsHeaders: false, resolve: (socketAddress) => normaliseSocketAddress(socketAddress) };
  }
  const trusted = compileAddressList(trustedProxies);
  const isTrusted = (candidate: NormalisedAddress): boolean => trusted.check(candidate);
  return {
    readsHeaders: true,
    resolve(socketAddress, headers) {
      const peer = normaliseSocketAddress(socketAddress);
      if (peer === undefined || !isTrusted(peer)) return peer;
      const forwardedFor = headers['x-forwarded-for'];
      const forwarded = headers['forwarded'];
      if (forwardedFor !== undefined && forwarded !== undefined) return peer;
      const hops = forwardedFor !== undefined ? headerText(forwardedFor).split(',') : forwarded !== undefined ? forwardedForHops(headerText(forwarded)) : undefined;
      if (hops === undefined) return peer;
      let lastTrusted = peer;
      for (let index = hops.length - 1; index >= 0; index -= 1) {
        const hop = parseForwardedAddress(hops[index]!);
        if (hop === undefined) return lastTrusted;
        if (!isTrusted(hop)) return hop;
        lastTrusted = hop;
      }
      return lastTrusted;
    },
  };
}

function headerText(value: string | string[]): string {
  return typeof value === 'string' ? value : value.join(',');
}

/**
 * The `for=` values of a `Forwarded` header (RFC 7239), one per element, in order. An element
 * without `for=` yields '' (which fails to parse and stops the walk there).
 */
function forwardedForHops(header: string): string[] {
  return header.split(',').map((element) => {
    for (const pair of element.split(';')) {
      const equals = pair.indexOf('=');
      if (equals !== -1 && pair.slice(0, equals).trim().toLowerCase() === 'for') return pair.slice(equals + 1);
    }
    return '';
  });
}
