import { describe, expect, it } from 'vitest';
import { StreamUsageSniffer, usageFromAnswer } from './usage.js';

/** Feeds `text` to a sniffer in pieces of `size` bytes. */
function sniff(format: 'openai-chat' | 'anthropic-messages', text: string, size: number): ReturnType<StreamUsageSniffer['finish']> {
  const sniffer = new StreamUsageSniffer(format);
  const bytes = Buffer.from(text);
  for (let offset = 0; offset < bytes.length; offset += size) sniffer.observe(bytes.subarray(offset, offset + size));
  return sniffer.finish();
}

const delta = (index: number): string => `data: {"choices":[{"index":0,"delta":{"content":"piece ${index} ${'x'.repeat(80)}"}}],"usage":null}\n\n`;

describe('usage sniffing', () => {
  it('reads usage from non-streamed answers of both formats', () => {
    expect(usageFromAnswer('openai-chat', { usage: { prompt_tokens: 5, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 1 } } })).toEqual({ inputTokens: 5, outputTokens: 2, cachedTokens: 1 });
    expect(usageFromAnswer('anthropic-messages', { usage: { input_tokens: 4, output_tokens: 3, cache_read_input_tokens: 2 } })).toEqual({ inputTokens: 4, outputTokens: 3, cachedTokens: 2 });
    expect(usageFromAnswer('openai-chat', { choices: [] })).toBeUndefined();
    expect(usageFromAnswer('openai-chat', 'not an object')).toBeUndefined();
  });

  it("finds OpenAI's usage chunk at the end of a long stream, whatever the piece size", () => {
    let text = '';
    for (let index = 0; index < 300; index++) text += delta(index);
    text += 'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":300,"prompt_tokens_details":{"cached_tokens":4}}}\n\ndata: [DONE]\n\n';
    for (const size of [1, 7, 100, 4096, text.length]) {
      expect(sniff('openai-chat', text, size)).toEqual({ usage: { inputTokens: 12, outputTokens: 300, cachedTokens: 4 }, upstreamError: false });
    }
  });

  it("combines Anthropic's message_start (input) and final message_delta (output)", () => {
    let text = 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":14,"output_tokens":1,"cache_read_input_tokens":3}}}\n\n';
    for (let index = 0; index < 200; index++) text += `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${'y'.repeat(90)}"}}\n\n`;
    text += 'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":250}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
    for (const size of [3, 512, text.length]) {
      expect(sniff('anthropic-messages', text, size)).toEqual({ usage: { inputTokens: 14, outputTokens: 250, cachedTokens: 3 }, upstreamError: false });
    }
  });

  it('notices an error event at the end of a relayed stream', () => {
    expect(sniff('anthropic-messages', `${delta(1)}event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n`, 16).upstreamError).toBe(true);
    expect(sniff('openai-chat', `${delta(1)}data: {"error":{"message":"boom"}}\n\n`, 16).upstreamError).toBe(true);
  });
});
