import { isIP } from 'node:net';

/**
 * Address normalisation for every IP decision (filter, limiter, logs). One rule: an IPv4 client is
 * always written in dotted IPv4, so `::ffff:10.0.0.1` (how a dual-stack socket reports an IPv4
 * peer, or what a proxy may forward) meets the same rules and the same bucket as `10.0.0.1`.
 */
export type IpFamily = 'ipv4' | 'ipv6';

export interface NormalisedAddress {
  readonly address: string;
  readonly family: IpFamily;
}

const mappedPrefix = '::ffff:';

/**
 * The socket's address, normalised. The fast path (a plain IPv4 or IPv6 string from Node) costs a
 * `startsWith` and, for `::ffff:` only, a slice: no parsing per request.
 */
export function normaliseSocketAddress(address: string | undefined): NormalisedAddress | undefined {
  if (address === undefined || address === '') return undefined;
  if (address.includes(':')) {
    if (address.startsWith(mappedPrefix) && address.includes('.', mappedPrefix.length)) return { address: address.slice(mappedPrefix.length), family: 'ipv4' };
    return { address, family: 'ipv6' };
  }
  return { address, family: 'ipv4' };
}

/**
 * An address written in a forwarding header: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`,
 * `[2001:db8::1]`, `[2001:db8::1]:443`, optionally quoted (the `Forwarded` header quotes IPv6).
 * Undefined for anything else (`unknown`, obfuscated `_id`s, garbage): the caller then stops
 * believing the header at that hop.
 */
export function parseForwardedAddress(text: string): NormalisedAddress | undefined {
  let value = text.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) return undefined;
    const rest = value.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    value = value.slice(1, close);
    return isIP(value) === 6 ? normaliseSocketAddress(value) : undefined;
  }
  const family = isIP(value);
  if (family === 4) return { address: value, family: 'ipv4' };
  if (family === 6) return normaliseSocketAddress(value);
  const colon = value.lastIndexOf(':');
  if (colon > 0 && value.indexOf(':') === colon && /^\d{1,5}$/.test(value.slice(colon + 1)) && isIP(value.slice(0, colon)) === 4) {
    return { address: value.slice(0, colon), family: 'ipv4' };
  }
  return undefined;
}

/**
 * The key a per-IP limit counts under: the IPv4 address itself, or the /64 prefix of an IPv6
 * address. One IPv6 subscriber usually holds a whole /64 (often more) and can pick any address in
 * it, so limiting per address would let one client spray 2^64 fresh buckets.
 */
export function rateLimitKey(normalised: NormalisedAddress): string {
  return normalised.family === 'ipv4' ? normalised.address : ipv6Prefix64(normalised.address);
}

/** The first four groups of an IPv6 address (expanded, lower case, no leading zeros) and `::/64`. */
export function ipv6Prefix64(address: string): string {
  // Fast path: four plain groups before any `::` (most global addresses): one scan, one slice.
  let colons = 0;
  for (let index = 0; index < address.length; index += 1) {
    const code = address.charCodeAt(index);
    if (code === 58 /* : */) {
      if (index === 0) break;
      colons += 1;
      // Four explicit groups before this colon (a `::` starting here compresses only later groups).
      if (colons === 4) return `${address.slice(0, index)}::/64`;
      if (address.charCodeAt(index + 1) === 58) break;
    } else if ((code >= 65 && code <= 70) || (code === 48 && (index === 0 || address.charCodeAt(index - 1) === 58) && address.charCodeAt(index + 1) !== 58)) {
      break; // upper case or a leading zero: not canonical, take the general path
    }
  }
  return ipv6Prefix64General(address);
}

function ipv6Prefix64General(address: string): string {
  const zone = address.indexOf('%');
  const bare = (zone === -1 ? address : address.slice(0, zone)).toLowerCase();
  const doubleColon = bare.indexOf('::');
  let groups: string[];
  if (doubleColon === -1) {
    groups = bare.split(':');
  } else {
    const head = doubleColon === 0 ? [] : bare.slice(0, doubleColon).split(':');
    const tailText = bare.slice(doubleColon + 2);
    const tail = tailText === '' ? [] : tailText.split(':');
    // An embedded IPv4 tail (::ffff:1.2.3.4 is handled earlier; 64:ff9b::1.2.3.4 here) takes two groups.
    const tailGroups = tail.length > 0 && tail[tail.length - 1]!.includes('.') ? tail.length + 1 : tail.length;
    groups = [...head, ...new Array<string>(Math.max(0, 8 - head.length - tailGroups)).fill('0'), ...tail];
  }
  return `${groups.slice(0, 4).map((group) => (group === '' ? '0' : group.replace(/^0+(?=.)/, ''))).join(':')}::/64`;
}
