import { describe, expect, it } from 'vitest';
import { geminiPassThroughBridge } from './gemini-pass-through.js';
import type { BridgeContext } from './types.js';

const chunk1 = '{"candidates":[{"content":{"parts":[{"text":"Hi","thoughtSignature":"c2ln"}],"role":"model"}}]}';
const chunk2 = '{"candidates":[{"content":{"parts":[{"text":" there"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3}}';
const sse = `data: ${chunk1}\r\n\r\ndata: ${chunk2}\r\n\r\n`;
const array = `[${chunk1}\r\n,${chunk2}\r\n]`;

function context(streamFraming: BridgeContext['streamFraming']): BridgeContext {
  return { requestedModel: 'alias', upstreamModel: 'gemini-test', created: 0, requestId: 'r', clientBody: { contents: [] }, stream: true, streamFraming };
}

function relay(framing: BridgeContext['streamFraming'], upstream: string, pieceSize: number): string {
  const transformer = geminiPassThroughBridge.streamTransformer(context(framing));
  const bytes = Buffer.from(upstream);
  let out = '';
  for (let offset = 0; offset < bytes.length; offset += pieceSize) out += transformer.push(bytes.subarray(offset, offset + pieceSize)).toString();
  return out + transformer.flush().toString();
}

describe('gemini pass-through bridge', () => {
  it('sends the client body bytes unchanged, even for an alias (the model is in the URL)', () => {
    const raw = Buffer.from('{ "contents" : [ {"parts":[{"text":"x","thoughtSignature":"c2ln"}]} ], "unknownField": 1 }');
    expect(geminiPassThroughBridge.upstreamBody(context('sse'), raw, { defaultMaxTokens: 1 })).toBe(raw);
    expect(geminiPassThroughBridge.relaysAnswerBytes).toBe(true);
  });

  it.each([1, 7, 1000])('forwards matching framings byte for byte (pieces of %i)', (size) => {
    expect(relay('sse', sse, size)).toBe(sse);
    expect(relay('json-array', array, size)).toBe(array);
  });

  it.each([1, 7, 1000])('re-frames when the upstream framing differs from the client’s, copying each chunk (pieces of %i)', (size) => {
    expect(relay('json-array', sse, size)).toBe(`[${chunk1},\r\n${chunk2}]`);
    expect(relay('sse', array, size)).toBe(`data: ${chunk1}\n\ndata: ${chunk2}\n\n`);
    expect(JSON.parse(relay('json-array', sse, size))).toHaveLength(2);
  });

  it('closes an empty array answer and appends an error element so the body stays JSON', () => {
    expect(relay('json-array', '', 10)).toBe('[]');
    const transformer = geminiPassThroughBridge.streamTransformer(context('json-array'));
    const before = transformer.push(Buffer.from(`data: ${chunk1}\n\n`)).toString();
    const text = before + (transformer.errorEvent?.({ error: { code: 502, message: 'failed', status: 'UNAVAILABLE' } }) ?? '');
    expect(JSON.parse(text)).toHaveLength(2);
  });
});
