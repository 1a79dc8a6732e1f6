import { BlockList, isIP } from 'node:net';

/**
 * Which IP addresses the egress guard refuses as upstream targets: everything that is not the public
 * internet. A provider URL, token URL or DNS answer pointing at one of these is how a config typo
 * or an attacker-controlled DNS name turns the gateway into a proxy for the host's own services,
 * its LAN, or the cloud metadata endpoint (which hands out the instance's credentials).
 *
 * Compiled once into `net.BlockList`s at module load; a check is a few lookups, done once per new
 * upstream connection (not per request: sockets are pooled).
 */

interface Range {
  network: string;
  prefix: number;
  reason: string;
}

const ipv4Ranges: readonly Range[] = [
  { network: '169.254.169.254', prefix: 32, reason: 'the cloud metadata endpoint' },
  { network: '0.0.0.0', prefix: 8, reason: 'an unspecified ("this network") address' },
  { network: '10.0.0.0', prefix: 8, reason: 'a private address' },
  { network: '100.64.0.0', prefix: 10, reason: 'a carrier-grade NAT (shared) address' },
  { network: '127.0.0.0', prefix: 8, reason: 'a loopback address' },
  { network: '169.254.0.0', prefix: 16, reason: 'a link-local address' },
  { network: '172.16.0.0', prefix: 12, reason: 'a private address' },
  { network: '192.0.0.0', prefix: 24, reason: 'an IETF protocol address' },
  { network: '192.168.0.0', prefix: 16, reason: 'a private address' },
  { network: '198.18.0.0', prefix: 15, reason: 'a benchmarking address' },
  { network: '224.0.0.0', prefix: 4, reason: 'a multicast address' },
  { network: '240.0.0.0', prefix: 4, reason: 'a reserved address' },
];

const ipv6Ranges: readonly Range[] = [
  { network: 'fd00:ec2::254', prefix: 128, reason: 'the cloud metadata endpoint' },
  { network: '::', prefix: 128, reason: 'an unspecified address' },
  { network: '::1', prefix: 128, reason: 'a loopback address' },
  { network: 'fe80::', prefix: 10, reason: 'a link-local address' },
  { network: 'fc00::', prefix: 7, reason: 'a unique-local address' },
  { network: 'ff00::', prefix: 8, reason: 'a multicast address' },
  { network: '100::', prefix: 64, reason: 'a discard-only address' },
  { network: '2001:db8::', prefix: 32, reason: 'a documentation address' },
];

/** One BlockList per reason, so a refusal says which kind of address it was. */
function compile(ranges: readonly Range[], family: 'ipv4' | 'ipv6'): { list: BlockList; reason: string }[] {
  return ranges.map((range) => {
    const list = new BlockList();
    list.addSubnet(range.network, range.prefix, family);
    return { list, reason: range.reason };
  });
}

const ipv4Lists = compile(ipv4Ranges, 'ipv4');
const ipv6Lists = compile(ipv6Ranges, 'ipv6');

/**
 * The IPv4 address an IPv6 address carries, for the forms that reach that IPv4 host: IPv4-mapped
 * `::ffff:a.b.c.d` (also written `::ffff:7f00:1`, as the URL parser normalises it), the deprecated
 * IPv4-compatible `::a.b.c.d`, and NAT64 `64:ff9b::a.b.c.d`. Without this, `[::ffff:127.0.0.1]`
 * would dodge every IPv4 rule.
 */
export function embeddedIpv4(address: string): string | undefined {
  const hextets = expandIpv6(address);
  if (hextets === undefined) return undefined;
  const high = hextets.slice(0, 6);
  const mapped = high.slice(0, 5).every((value) => value === 0) && high[5] === 0xffff;
  const compatible = high.every((value) => value === 0) && (hextets[6] !== 0 || (hextets[7] ?? 0) > 1);
  const nat64 = high[0] === 0x64 && high[1] === 0xff9b && high.slice(2).every((value) => value === 0);
  if (!mapped && !compatible && !nat64) return undefined;
  const upper = hextets[6] ?? 0;
  const lower = hextets[7] ?? 0;
  return `${upper >> 8}.${upper & 0xff}.${lower >> 8}.${lower & 0xff}`;
}

/** The eight 16-bit groups of an IPv6 address (with a trailing dotted IPv4 allowed), or undefined. */
function expandIpv6(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address.split('%', 1)[0] ?? address; // a zone id (fe80::1%eth0) is not part of the address
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1] !== undefined) {
    const bytes = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${(((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0)).toString(16)}:${(((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headParts.length - tailParts.length;
  const parts = tail === undefined ? headParts : [...headParts, ...Array<string>(missing).fill('0'), ...tailParts];
  return parts.length === 8 ? parts.map((part) => Number.parseInt(part, 16)) : undefined;
}

/**
 * Why `address` (an IP literal, IPv4 or IPv6) is not a public internet address, or undefined when
 * it is. Not an IP at all → undefined (a host name is checked after resolution).
 */
export function nonPublicAddressReason(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare.split('%', 1)[0] ?? bare);
  if (family === 4) return ipv4Lists.find((entry) => entry.list.check(bare, 'ipv4'))?.reason;
  if (family !== 6) return undefined;
  const inner = embeddedIpv4(bare);
  if (inner !== undefined) {
    const reason = nonPublicAddressReason(inner);
    return reason === undefined ? undefined : `${reason} (IPv4 ${inner} inside IPv6)`;
  }
  const withoutZone = bare.split('%', 1)[0] ?? bare;
  return ipv6Lists.find((entry) => entry.list.check(withoutZone, 'ipv6'))?.reason;
}
