import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from '../state/memory.js';
import { BanMirror } from './ban-mirror.js';
import { compileIpFilter, type BanCheck } from './ip-filter.js';
import { normaliseSocketAddress } from './ip-address.js';

const noBans: BanCheck = { size: 0, isBanned: () => false };
const client = (address: string) => normaliseSocketAddress(address)!;

describe('IP filter', () => {
  it('checks dynamic bans, then the denylist, then the allowlist', () => {
    const banned = new Set(['10.0.0.5']);
    const bans: BanCheck = { size: banned.size, isBanned: (address) => banned.has(address) };
    const filter = compileIpFilter({ ip_allowlist: { enabled: true, allowed_ips: ['10.0.0.0/8'] }, ip_denylist: ['10.9.0.0/16'] }, bans);
    expect(filter.check(client('10.0.0.5'))).toBe('banned'); // allowed by the allowlist, banned first
    expect(filter.check(client('10.9.1.1'))).toBe('denied'); // allowed by the allowlist, denied first
    expect(filter.check(client('10.1.1.1'))).toBe('allowed');
    expect(filter.check(client('192.168.1.1'))).toBe('not-allowed');
  });

  it('an IPv4 deny rule catches the ::ffff: mapped form of the address', () => {
    const filter = compileIpFilter({ ip_allowlist: { enabled: false, allowed_ips: [] }, ip_denylist: ['203.0.113.0/24'] }, noBans);
    expect(filter.check(client('::ffff:203.0.113.7'))).toBe('denied');
    expect(filter.check(client('203.0.113.7'))).toBe('denied');
    // A rule written in mapped form applies to the IPv4 address as well.
    const mappedRule = compileIpFilter({ ip_allowlist: { enabled: false, allowed_ips: [] }, ip_denylist: ['::ffff:198.51.100.0/120'] }, noBans);
    expect(mappedRule.check(client('198.51.100.9'))).toBe('denied');
  });

  it('IPv6 rules match IPv6 clients only', () => {
    const filter = compileIpFilter({ ip_allowlist: { enabled: true, allowed_ips: ['2001:db8::/32', '127.0.0.1'] }, ip_denylist: [] }, noBans);
    expect(filter.check(client('2001:db8::42'))).toBe('allowed');
    expect(filter.check(client('2001:db9::42'))).toBe('not-allowed');
    expect(filter.check(client('127.0.0.1'))).toBe('allowed');
  });
});

describe('BanMirror', () => {
  it('follows bans placed by another handle of the backend, loads existing ones, and forgets expired ones', async () => {
    let now = 1_000_000;
    const state = new MemoryStateBackend({ now: () => now });
    await state.ban('198.51.100.1', 60_000); // placed before the mirror starts
    const mirror = new BanMirror(state, () => now);
    await mirror.start();
    expect(mirror.isBanned('198.51.100.1')).toBe(true);
    await state.ban('198.51.100.2', 1_000); // announced on the channel
    await new Promise((resolve) => setImmediate(resolve));
    expect(mirror.isBanned('198.51.100.2')).toBe(true);
    now += 2_000;
    expect(mirror.isBanned('198.51.100.2')).toBe(false);
    expect(mirror.isBanned('198.51.100.1')).toBe(true);
    await mirror.close();
  });

  it('stays bounded: the bans ending soonest go first', async () => {
    const now = 5_000;
    const mirror = new BanMirror(new MemoryStateBackend({ now: () => now }), () => now, 3);
    for (let index = 0; index < 5; index += 1) await mirror.ban(`203.0.113.${index}`, 10_000 + index * 100);
    expect(mirror.size).toBeLessThanOrEqual(3);
    expect(mirror.isBanned('203.0.113.4')).toBe(true);
    expect(mirror.isBanned('203.0.113.0')).toBe(false);
    expect(mirror.isBanned('203.0.113.1')).toBe(false);
  });
});
