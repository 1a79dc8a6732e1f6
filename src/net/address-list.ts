import { BlockList } from 'node:net';
import { normaliseSocketAddress, type NormalisedAddress } from './ip-address.js';

/**
 * A compiled list of IPs and CIDRs (trusted proxies, allow and deny lists), checked per request.
 *
 * IPv4 entries become (network, mask) integer pairs and an IPv4 address is parsed to an integer
 * once per check: a few integer operations per entry. `net.BlockList.check` costs about 2 µs per
 * call here (it builds a native SocketAddress from the string each time), which for two lists and
 * a trusted-proxy check would be several µs of a pass-through's ~70 µs budget
 * (bench/network-layers.mjs). IPv6 entries stay in a `net.BlockList`: rarer, and its 128-bit
 * arithmetic is what it is for.
 */
export interface AddressList {
  readonly size: number;
  check(address: NormalisedAddress): boolean;
}

/** Entries are validated by the config loader (config/validate-semantics.ts); anything else is skipped. */
export function compileAddressList(entries: readonly string[]): AddressList {
  const networks: number[] = [];
  const masks: number[] = [];
  const ipv6 = new BlockList();
  let ipv6Count = 0;
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const base = slash === -1 ? entry : entry.slice(0, slash);
    const normalised = normaliseSocketAddress(base);
    if (normalised === undefined) continue;
    let prefix = slash === -1 ? (normalised.family === 'ipv4' ? 32 : 128) : Number(entry.slice(slash + 1));
    if (normalised.family === 'ipv4') {
      // `::ffff:10.0.0.0/104` is 10.0.0.0/8 written as IPv6: the mapped part starts at bit 96.
      if (base.includes(':')) prefix = Math.max(0, prefix - 96);
      const value = ipv4Value(normalised.address);
      if (value === undefined || prefix > 32) continue;
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      networks.push((value & mask) >>> 0);
      masks.push(mask);
    } else {
      if (slash === -1) ipv6.addAddress(normalised.address, 'ipv6');
      else ipv6.addSubnet(normalised.address, prefix, 'ipv6');
      ipv6Count += 1;
    }
  }
  const count = networks.length;
  return {
    size: count + ipv6Count,
    check(address) {
      if (address.family === 'ipv6') return ipv6Count > 0 && ipv6.check(address.address, 'ipv6');
      if (count === 0) return false;
      const value = ipv4Value(address.address);
      if (value === undefined) return false;
      for (let index = 0; index < count; index += 1) if (((value & masks[index]!) >>> 0) === networks[index]) return true;
      return false;
    },
  };
}

/** A dotted IPv4 address as an unsigned 32-bit integer; undefined when it is not one. */
export function ipv4Value(address: string): number | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let index = 0; index < address.length; index += 1) {
    const code = address.charCodeAt(index);
    if (code === 46 /* . */) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots += 1;
    } else if (code >= 48 && code <= 57 && digits < 3) {
      part = part * 10 + (code - 48);
      if (part > 255) return undefined;
      digits += 1;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + part;
}
