import { describe, expect, it } from 'vitest';
import { oddPieces } from '../../../test/helpers/translator-testing.js';
import { SseEventTooLargeError } from '../sse.js';
import { createGeminiStreamParser } from './stream-parser.js';

const chunkA = '{"candidates":[{"content":{"parts":[{"text":"a \\"quoted\\" } ] brace, and [ bracket"}]}}]}';
const chunkB = '{"candidates":[{"content":{"parts":[{"text":"é"}]},"finishReason":"STOP"}]}';

function parseAll(text: string, sizes: number[]): string[] {
  const parser = createGeminiStreamParser();
  const data: string[] = [];
  for (const piece of oddPieces(text, sizes)) data.push(...parser.push(piece).map((event) => event.data));
  data.push(...parser.flush().map((event) => event.data));
  return data;
}

describe('createGeminiStreamParser', () => {
  it.each([[[1]], [[2, 5]], [[4096]]])('cuts the JSON-array framing into its chunks, strings with brackets included, in pieces of %j', (sizes) => {
    expect(parseAll(`\r\n[${chunkA}\r\n,${chunkB}\r\n]`, sizes)).toEqual([chunkA, chunkB]);
  });

  it.each([[[1]], [[3, 7]], [[4096]]])('reads SSE frames (alt=sse) in pieces of %j', (sizes) => {
    expect(parseAll(`data: ${chunkA}\r\n\r\ndata: ${chunkB}\r\n\r\n`, sizes)).toEqual([chunkA, chunkB]);
  });

  it('says which framing it saw, and gives nothing for an array cut mid-chunk', () => {
    const parser = createGeminiStreamParser();
    expect(parser.framing).toBeUndefined();
    parser.push(`  [${chunkA.slice(0, 20)}`);
    expect(parser.framing).toBe('json-array');
    expect(parser.flush()).toEqual([]);
  });

  it('refuses an array element larger than the bound instead of buffering it', () => {
    const parser = createGeminiStreamParser(1024);
    expect(() => parser.push(`[{"text":"${'x'.repeat(2048)}`)).toThrow(SseEventTooLargeError);
  });
});
