import { describe, expect, it } from 'vitest';
import { upstreamWireFormats, wireFormats, type WireFormat } from '../../formats/wire-format.js';
import { bridgeFor } from './registry.js';

/**
 * Pairs not built yet, each answered with 400 GW_UNSUPPORTED_CONTENT naming the provider: a
 * Responses client to a Gemini upstream (issue 12: the Responses row of the Gemini column comes with
 * the Responses work). The test fails once such a bridge exists, so the entry is removed with it.
 */
const notBuiltYet: readonly (readonly [WireFormat, WireFormat])[] = [];

describe('bridge registry', () => {
  it('has one bridge for every (client format, upstream format an adapter speaks) pair, keyed by wire format', () => {
    for (const clientFormat of wireFormats) {
      for (const upstreamFormat of upstreamWireFormats) {
        const bridge = bridgeFor(clientFormat, upstreamFormat);
        if (notBuiltYet.some(([client, upstream]) => client === clientFormat && upstream === upstreamFormat)) {
          expect(bridge, `${clientFormat} → ${upstreamFormat} is built: remove it from notBuiltYet`).toBeUndefined();
          continue;
        }
        expect(bridge, `${clientFormat} → ${upstreamFormat}`).toBeDefined();
        expect(bridge?.clientFormat).toBe(clientFormat);
        expect(bridge?.upstreamFormat).toBe(upstreamFormat);
      }
    }
  });
});
