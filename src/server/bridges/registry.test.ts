import { describe, expect, it } from 'vitest';
import { upstreamWireFormats, wireFormats } from '../../formats/wire-format.js';
import { bridgeFor } from './registry.js';

describe('bridge registry', () => {
  it('has one bridge for every (client format, upstream format an adapter speaks) pair, keyed by wire format', () => {
    for (const clientFormat of wireFormats) {
      for (const upstreamFormat of upstreamWireFormats) {
        const bridge = bridgeFor(clientFormat, upstreamFormat);
        expect(bridge, `${clientFormat} → ${upstreamFormat}`).toBeDefined();
        expect(bridge?.clientFormat).toBe(clientFormat);
        expect(bridge?.upstreamFormat).toBe(upstreamFormat);
      }
    }
  });
});
