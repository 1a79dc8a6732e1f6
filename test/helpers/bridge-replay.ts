import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { isGatewayError } from '../../src/errors/gateway-error.js';
import type { WireFormat } from '../../src/formats/wire-format.js';
import { bridgeFor } from '../../src/server/bridges/registry.js';
import { outputBeforeFailure } from '../../src/server/bridges/sse-transformer.js';
import type { BridgeContext } from '../../src/server/bridges/types.js';
import { randomPieces, seededRandom } from './translator-testing.js';

/** A small streaming request of each client format, as the bridges under test receive it. */
export const streamingClientBodies = {
  'openai-chat': { model: 'client-model', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } },
  'anthropic-messages': { model: 'client-model', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true },
  'openai-responses': { model: 'client-model', input: 'hi', stream: true },
  gemini: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
} as const;

export type StreamingClientFormat = keyof typeof streamingClientBodies;

/**
 * What a streaming client of `clientFormat` sees when the upstream stream `pieces` goes through the
 * bridge to `upstreamFormat`: the text written to it, and when the stream fails, the text written
 * before the failure and `[error] CODE: message`. The fast-path tests compare this with a scan on
 * and off.
 */
export function clientViewThroughBridge(clientFormat: StreamingClientFormat, upstreamFormat: WireFormat, pieces: Buffer[]): string {
  const bridge = bridgeFor(clientFormat, upstreamFormat);
  if (bridge === undefined) throw new Error(`no bridge ${clientFormat} -> ${upstreamFormat}`);
  const context: BridgeContext = { requestedModel: 'client-model', upstreamModel: 'upstream-model', created: 1_735_689_600, requestId: 'req-replay-1', stream: true, streamFraming: 'sse', clientBody: streamingClientBodies[clientFormat] };
  bridge.upstreamBody(context, Buffer.from('{}'), { defaultMaxTokens: 64 });
  const transformer = bridge.streamTransformer(context);
  let text = '';
  try {
    for (const piece of pieces) text += String(transformer.push(piece));
    return text + String(transformer.flush());
  } catch (error) {
    const { output, cause } = outputBeforeFailure(transformer, error);
    return `${text}${String(output)}[error] ${isGatewayError(cause) ? `${cause.code}: ${cause.message}` : String(cause)}`;
  }
}

/**
 * The proof a fast path owes: each stream, whole and cut at random 6 times, goes through the bridge
 * from `upstreamFormat` to `clientFormat` with the fast path off (`setFastPath(false)`: everything
 * parsed) and on, and the client must see the same bytes and the same failure. Returns how many
 * replays failed (the same with it on and off), so a test can check its hostile streams did fail.
 */
export function expectSameViewWithFastPath(options: { clientFormat: StreamingClientFormat; upstreamFormat: WireFormat; streams: readonly string[]; seed: number; setFastPath: (enabled: boolean) => void }): number {
  const { clientFormat, upstreamFormat, streams, setFastPath } = options;
  const random = seededRandom(options.seed);
  let failures = 0;
  for (const stream of streams) {
    const bytes = Buffer.from(stream);
    for (const pieces of [[bytes], ...Array.from({ length: 6 }, () => randomPieces(bytes, random))]) {
      setFastPath(false);
      const expected = clientViewThroughBridge(clientFormat, upstreamFormat, pieces);
      if (expected.includes('[error]')) failures++;
      setFastPath(true);
      expect(clientViewThroughBridge(clientFormat, upstreamFormat, pieces), stream).toBe(expected);
    }
  }
  return failures;
}

/** The text of every fixture file in a folder whose name ends with one of `suffixes` (default: recorded SSE streams). */
export function fixtureTexts(directory: URL, suffixes: readonly string[] = ['.chunks.txt']): string[] {
  return readdirSync(directory)
    .filter((file) => suffixes.some((suffix) => file.endsWith(suffix)))
    .map((file) => readFileSync(new URL(file, directory), 'utf8'));
}

/** A folder of recordings written one event's JSON per line (test/fixtures/recorded/*): each file's events, blank lines left out. */
export function recordedEventLists(directory: URL): string[][] {
  return fixtureTexts(directory).map((text) => text.split(/\r?\n/).filter((line) => line.trim() !== ''));
}
