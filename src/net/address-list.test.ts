import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { compileAddressList, ipv4Value } from './address-list.js';

/** A small deterministic generator, so a failure replays. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state;
  };
}

const dotted = (value: number) => [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');

describe('compileAddressList', () => {
  it('matches IPv4 exactly as net.BlockList does, over random ranges and addresses', () => {
    const next = generator(11);
    for (let trial = 0; trial < 200; trial += 1) {
      const entries = Array.from({ length: 1 + (next() % 6) }, () => {
        const prefix = next() % 33;
        return prefix === 32 && next() % 2 === 0 ? dotted(next()) : `${dotted(next())}/${prefix}`;
      });
      const reference = new BlockList();
      for (const entry of entries) {
        const [base = '', prefix] = entry.split('/');
        if (prefix === undefined) reference.addAddress(base, 'ipv4');
        else reference.addSubnet(base, Number(prefix), 'ipv4');
      }
      const list = compileAddressList(entries);
      for (let probe = 0; probe < 50; probe += 1) {
        // Half the probes near an entry's base, so matches are common.
        const base = ipv4Value(entries[next() % entries.length]!.split('/')[0]!)!;
        const address = dotted(probe % 2 === 0 ? (base ^ (next() % 4096)) >>> 0 : next());
        expect(list.check({ address, family: 'ipv4' }), `${address} in ${entries.join(' ')}`).toBe(reference.check(address, 'ipv4'));
      }
    }
  });

  it('handles /0, /32, mapped IPv4 ranges and IPv6 entries', () => {
    expect(compileAddressList(['0.0.0.0/0']).check({ address: '255.255.255.255', family: 'ipv4' })).toBe(true);
    expect(compileAddressList(['10.0.0.1']).check({ address: '10.0.0.2', family: 'ipv4' })).toBe(false);
    expect(compileAddressList(['::ffff:10.0.0.0/104']).check({ address: '10.200.1.1', family: 'ipv4' })).toBe(true);
    const mixed = compileAddressList(['2001:db8::/32', '192.0.2.0/24']);
    expect(mixed.check({ address: '2001:db8::1', family: 'ipv6' })).toBe(true);
    expect(mixed.check({ address: '2001:db9::1', family: 'ipv6' })).toBe(false);
    expect(mixed.check({ address: '192.0.2.77', family: 'ipv4' })).toBe(true);
    expect(mixed.size).toBe(2);
  });

  it('parses only dotted IPv4', () => {
    expect(ipv4Value('203.0.113.7')).toBe(0xcb007107);
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', 'a.b.c.d', '1.2.3.4 ', '1234.1.1.1']) expect(ipv4Value(bad)).toBeUndefined();
  });
});
