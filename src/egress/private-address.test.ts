import { describe, expect, it } from 'vitest';
import { urlHostProblem } from './egress-guard.js';
import { embeddedIpv4, nonPublicAddressReason } from './private-address.js';

describe('nonPublicAddressReason', () => {
  it('refuses every non-public IPv4 range, naming its kind', () => {
    expect(nonPublicAddressReason('169.254.169.254')).toBe('the cloud metadata endpoint');
    expect(nonPublicAddressReason('127.0.0.1')).toBe('a loopback address');
    expect(nonPublicAddressReason('127.255.0.9')).toBe('a loopback address');
    expect(nonPublicAddressReason('10.1.2.3')).toBe('a private address');
    expect(nonPublicAddressReason('172.31.255.255')).toBe('a private address');
    expect(nonPublicAddressReason('192.168.0.1')).toBe('a private address');
    expect(nonPublicAddressReason('100.64.0.1')).toBe('a carrier-grade NAT (shared) address');
    expect(nonPublicAddressReason('169.254.1.1')).toBe('a link-local address');
    expect(nonPublicAddressReason('0.0.0.0')).toBe('an unspecified ("this network") address');
    expect(nonPublicAddressReason('224.0.0.1')).toBe('a multicast address');
    expect(nonPublicAddressReason('255.255.255.255')).toBe('a reserved address');
  });

  it('refuses the IPv6 forms, including IPv4 carried inside IPv6', () => {
    expect(nonPublicAddressReason('::1')).toBe('a loopback address');
    expect(nonPublicAddressReason('[::1]')).toBe('a loopback address');
    expect(nonPublicAddressReason('fd00:ec2::254')).toBe('the cloud metadata endpoint');
    expect(nonPublicAddressReason('fd12:3456::1')).toBe('a unique-local address');
    expect(nonPublicAddressReason('fe80::1')).toBe('a link-local address');
    expect(nonPublicAddressReason('fe80::1%eth0')).toBe('a link-local address');
    expect(nonPublicAddressReason('::')).toBe('an unspecified address');
    expect(nonPublicAddressReason('::ffff:127.0.0.1')).toBe('a loopback address (IPv4 127.0.0.1 inside IPv6)');
    expect(nonPublicAddressReason('::ffff:a9fe:a9fe')).toBe('the cloud metadata endpoint (IPv4 169.254.169.254 inside IPv6)');
    expect(nonPublicAddressReason('64:ff9b::10.0.0.1')).toBe('a private address (IPv4 10.0.0.1 inside IPv6)');
    expect(nonPublicAddressReason('::7f00:1')).toBe('a loopback address (IPv4 127.0.0.1 inside IPv6)');
  });

  it('passes public addresses and host names', () => {
    for (const address of ['1.1.1.1', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:1.1.1.1', 'api.openai.com']) {
      expect(nonPublicAddressReason(address), address).toBeUndefined();
    }
    expect(embeddedIpv4('2606:4700:4700::1111')).toBeUndefined();
  });
});

describe('urlHostProblem', () => {
  it('sees through the URL forms that hide an IP literal', () => {
    expect(urlHostProblem('http://169.254.169.254/latest/meta-data')).toBe('169.254.169.254 is the cloud metadata endpoint');
    expect(urlHostProblem('http://2130706433:8080/v1')).toBe('127.0.0.1 is a loopback address');
    expect(urlHostProblem('http://0x7f.1/v1')).toBe('127.0.0.1 is a loopback address');
    expect(urlHostProblem('http://[::ffff:127.0.0.1]/v1')).toBe('[::ffff:7f00:1] is a loopback address (IPv4 127.0.0.1 inside IPv6)');
    expect(urlHostProblem('http://[fd00:ec2::254]/')).toBe('[fd00:ec2::254] is the cloud metadata endpoint');
    expect(urlHostProblem('https://api.openai.com/v1')).toBeUndefined();
    expect(urlHostProblem('http://localhost:8080')).toBeUndefined(); // a name: checked at connect
  });
});
