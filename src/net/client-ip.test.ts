import { describe, expect, it } from 'vitest';
import { createClientIpResolver } from './client-ip.js';
import { ipv6Prefix64, normaliseSocketAddress, parseForwardedAddress, rateLimitKey } from './ip-address.js';

const addressOf = (resolved: { address: string } | undefined) => resolved?.address;

describe('client IP', () => {
  it('without trusted proxies, a spoofed X-Forwarded-For or Forwarded is ignored: the socket decides', () => {
    const resolver = createClientIpResolver([]);
    expect(addressOf(resolver.resolve('198.51.100.20', { 'x-forwarded-for': '10.0.0.1' }))).toBe('198.51.100.20');
    expect(addressOf(resolver.resolve('198.51.100.20', { forwarded: 'for=10.0.0.1' }))).toBe('198.51.100.20');
  });

  it('from an untrusted peer the header is ignored even when proxies are configured', () => {
    const resolver = createClientIpResolver(['10.0.0.0/8']);
    expect(addressOf(resolver.resolve('198.51.100.20', { 'x-forwarded-for': '127.0.0.1' }))).toBe('198.51.100.20');
  });

  it('from a trusted peer, the rightmost address that is not itself trusted is the client', () => {
    const resolver = createClientIpResolver(['10.0.0.0/8', '192.0.2.1']);
    // The client wrote "127.0.0.1" itself; the proxies appended 203.0.113.5 (the real peer) and 192.0.2.1.
    const headers = { 'x-forwarded-for': '127.0.0.1, 203.0.113.5, 192.0.2.1' };
    expect(addressOf(resolver.resolve('10.1.2.3', headers))).toBe('203.0.113.5');
    expect(addressOf(resolver.resolve('10.1.2.3', { 'x-forwarded-for': '203.0.113.5' }))).toBe('203.0.113.5');
  });

  it('a malformed hop stops the walk at the last trusted hop, never reading further left', () => {
    const resolver = createClientIpResolver(['10.0.0.0/8']);
    expect(addressOf(resolver.resolve('10.0.0.2', { 'x-forwarded-for': '203.0.113.5, garbage' }))).toBe('10.0.0.2');
    expect(addressOf(resolver.resolve('10.0.0.2', { 'x-forwarded-for': '203.0.113.5, not-an-ip, 10.0.0.9' }))).toBe('10.0.0.9');
    expect(addressOf(resolver.resolve('10.0.0.2', { 'x-forwarded-for': '' }))).toBe('10.0.0.2');
    // Every hop trusted: the furthest trusted hop is the best we know.
    expect(addressOf(resolver.resolve('10.0.0.2', { 'x-forwarded-for': '10.0.0.8, 10.0.0.9' }))).toBe('10.0.0.8');
  });

  it('reads RFC 7239 Forwarded for= values, quoted IPv6 with ports included', () => {
    const resolver = createClientIpResolver(['10.0.0.0/8']);
    expect(addressOf(resolver.resolve('10.0.0.2', { forwarded: 'for=192.0.2.60;proto=http;by=203.0.113.43' }))).toBe('192.0.2.60');
    expect(addressOf(resolver.resolve('10.0.0.2', { forwarded: 'for=192.0.2.1, for="[2001:db8:cafe::17]:4711"' }))).toBe('2001:db8:cafe::17');
    expect(addressOf(resolver.resolve('10.0.0.2', { forwarded: 'for=unknown' }))).toBe('10.0.0.2');
    expect(addressOf(resolver.resolve('10.0.0.2', { forwarded: 'proto=https' }))).toBe('10.0.0.2');
  });

  it('both headers at once are ambiguous: neither is believed', () => {
    const resolver = createClientIpResolver(['10.0.0.0/8']);
    expect(addressOf(resolver.resolve('10.0.0.2', { 'x-forwarded-for': '203.0.113.5', forwarded: 'for=198.51.100.1' }))).toBe('10.0.0.2');
  });

  it('normalises ::ffff: mapped IPv4, from the socket and from a header, so no IPv4 rule is dodged', () => {
    expect(normaliseSocketAddress('::ffff:10.0.0.1')).toEqual({ address: '10.0.0.1', family: 'ipv4' });
    expect(normaliseSocketAddress('::1')).toEqual({ address: '::1', family: 'ipv6' });
    expect(parseForwardedAddress('[::ffff:203.0.113.7]:80')).toEqual({ address: '203.0.113.7', family: 'ipv4' });
    expect(parseForwardedAddress('203.0.113.7:8080')).toEqual({ address: '203.0.113.7', family: 'ipv4' });
    const resolver = createClientIpResolver(['10.0.0.0/8']);
    // A trusted proxy reached over a dual-stack socket, and a mapped client in its header.
    expect(addressOf(resolver.resolve('::ffff:10.0.0.2', { 'x-forwarded-for': '::ffff:203.0.113.7' }))).toBe('203.0.113.7');
  });

  it('limits IPv6 per /64, so one subscriber cannot spray fresh buckets', () => {
    expect(ipv6Prefix64('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(ipv6Prefix64('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(ipv6Prefix64('2001:db8:1::2:3:4:5')).toBe('2001:db8:1:0::/64');
    expect(ipv6Prefix64('2001:DB8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(ipv6Prefix64('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(ipv6Prefix64('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(ipv6Prefix64('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(ipv6Prefix64('::1')).toBe('0:0:0:0::/64');
    expect(rateLimitKey({ address: '2001:db8:1:2:3:4:5:6', family: 'ipv6' })).toBe(rateLimitKey({ address: '2001:db8:1:2::9', family: 'ipv6' }));
    expect(rateLimitKey({ address: '203.0.113.7', family: 'ipv4' })).toBe('203.0.113.7');
  });
});
