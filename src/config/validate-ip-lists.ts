import { isIP } from 'node:net';

/**
 * The one IP-list mistake a schema cannot see: a denylist that covers the allowlist. The filter
 * checks the denylist first (net/ip-filter.ts), so the spec's own example — deny `0.0.0.0/0` "to
 * block all except allowed", with the allowed ranges in the allowlist — refuses every client. The
 * allowlist alone already refuses every address it does not name; that is the fix the message gives.
 */
export interface IpListFindings {
  problems: string[];
  warnings: string[];
}

interface Range {
  readonly text: string;
  readonly family: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
}

/**
 * An IP or CIDR as `net.BlockList` accepts it. Written out here (not a try/catch around BlockList)
 * so `10.0.0.0/33`, `10.0.0.0/8x` and `/8` get one clear message.
 */
export function isIpOrCidr(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash === -1) return isIP(text) !== 0;
  const family = isIP(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (family === 0 || !/^(0|[1-9][0-9]{0,2})$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const fix = 'the denylist is checked before the allowlist, so every client would be refused; to admit only the allowed addresses, remove the covering denylist entry (the allowlist alone refuses every other address)';

export function checkIpListOverlap(allowlist: unknown, denylist: unknown): IpListFindings {
  const findings: IpListFindings = { problems: [], warnings: [] };
  const deny = rangesOf(denylist);
  const allowRecord = typeof allowlist === 'object' && allowlist !== null ? (allowlist as Record<string, unknown>) : {};
  if (allowRecord['enabled'] === true) {
    const allowed = rangesOf(allowRecord['allowed_ips']);
    if (Array.isArray(allowRecord['allowed_ips']) && allowRecord['allowed_ips'].length === 0) {
      findings.problems.push('server.security.ip_allowlist.allowed_ips: empty while the allowlist is enabled, so every client would be refused');
      return findings;
    }
    const covered = allowed.map((range) => ({ range, by: deny.find((candidate) => contains(candidate, range)) }));
    if (allowed.length > 0 && covered.every((entry) => entry.by !== undefined)) {
      const by = [...new Set(covered.map((entry) => entry.by!.text))].join(', ');
      findings.problems.push(`server.security.ip_denylist: ${by} covers every address of server.security.ip_allowlist.allowed_ips: ${fix}`);
    } else {
      for (const entry of covered) {
        if (entry.by !== undefined) findings.warnings.push(`server.security.ip_allowlist.allowed_ips: '${entry.range.text}' is inside denylist entry '${entry.by.text}' and will never be admitted`);
      }
    }
    return findings;
  }
  for (const family of [4, 6] as const) {
    const everything = deny.find((range) => range.family === family && range.first === 0n && range.last === maxOf(family));
    if (everything !== undefined) {
      findings.problems.push(`server.security.ip_denylist: '${everything.text}' refuses every IPv${family} client; to admit only some addresses, enable server.security.ip_allowlist with them instead (${fix})`);
    }
  }
  return findings;
}

function maxOf(family: 4 | 6): bigint {
  return (1n << (family === 4 ? 32n : 128n)) - 1n;
}

function contains(outer: Range, inner: Range): boolean {
  return outer.family === inner.family && outer.first <= inner.first && inner.last <= outer.last;
}

function rangesOf(list: unknown): Range[] {
  if (!Array.isArray(list)) return [];
  return list.filter((entry): entry is string => typeof entry === 'string' && isIpOrCidr(entry)).map(parseRange);
}

function parseRange(text: string): Range {
  const slash = text.indexOf('/');
  let base = slash === -1 ? text : text.slice(0, slash);
  let family: 4 | 6 = isIP(base) === 4 ? 4 : 6;
  let prefix = slash === -1 ? (family === 4 ? 32 : 128) : Number(text.slice(slash + 1));
  if (family === 6 && base.toLowerCase().startsWith('::ffff:') && base.includes('.')) {
    // An IPv4 range written in mapped form: the filter treats it as IPv4 (net/client-ip.ts).
    base = base.slice(7);
    family = 4;
    prefix = Math.max(0, prefix - 96);
  }
  const bits = family === 4 ? 32 : 128;
  const value = family === 4 ? ipv4Value(base) : ipv6Value(base);
  const hostBits = BigInt(bits - prefix);
  const first = (value >> hostBits) << hostBits;
  return { text, family, first, last: first + (1n << hostBits) - 1n };
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((total, part) => (total << 8n) + BigInt(Number(part)), 0n);
}

function ipv6Value(address: string): bigint {
  const zone = address.indexOf('%');
  let text = zone === -1 ? address : address.slice(0, zone);
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // Embedded IPv4 tail: rewrite it as two hex groups.
    const ipv4 = Number(ipv4Value(text.slice(lastColon + 1)));
    text = `${text.slice(0, lastColon + 1)}${(ipv4 >>> 16).toString(16)}:${(ipv4 & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headGroups : [...headGroups, ...new Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.reduce((total, group) => (total << 16n) + BigInt(Number.parseInt(group, 16)), 0n);
}
