import { describe, expect, it } from 'vitest';
import { StreamUsageSniffer, usageFromAnswer } from './usage.js';

/** Feeds `text` to a sniffer in pieces of `size` bytes. */
function sniff(format: 'openai-chat' | 'anthropic-messages' | 'openai-responses' | 'gemini', text: string, size: number, findsUpstreamError = true): ReturnType<StreamUsageSniffer['finish']> {
  const sniffer = new StreamUsageSniffer(format, findsUpstreamError);
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

  it("reads a Responses stream's usage from response.completed, even when that event is far larger than the kept tail", () => {
    const longText = 'z'.repeat(20_000);
    let text = 'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","usage":null}}\n\n';
    for (let index = 0; index < 100; index++) text += `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"${'w'.repeat(200)}"}\n\n`;
    text += `event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1","error":null,"output":[{"type":"message","content":[{"type":"output_text","text":"${longText}"}]}],"usage":{"input_tokens":30,"input_tokens_details":{"cached_tokens":8},"output_tokens":5000,"output_tokens_details":{"reasoning_tokens":7},"total_tokens":5030},"user":null,"metadata":{}}}\n\n`;
    for (const size of [5, 1000, 64 * 1024, text.length]) {
      expect(sniff('openai-responses', text, size)).toEqual({ usage: { inputTokens: 30, outputTokens: 5000, cachedTokens: 8 }, upstreamError: false });
    }
    const failed = 'event: response.failed\ndata: {"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"x"},"usage":null}}\n\n';
    expect(sniff('openai-responses', failed, 10)).toEqual({ usage: undefined, upstreamError: true });
    // A translated stream: its translator failed the stream on that event; the usage is still read.
    expect(sniff('openai-responses', failed, 10, false)).toEqual({ usage: undefined, upstreamError: false });
    expect(sniff('openai-responses', text, 1000, false)).toEqual({ usage: { inputTokens: 30, outputTokens: 5000, cachedTokens: 8 }, upstreamError: false });
    expect(usageFromAnswer('openai-responses', { usage: { input_tokens: 3, output_tokens: 2, input_tokens_details: { cached_tokens: 1 } } })).toEqual({ inputTokens: 3, outputTokens: 2, cachedTokens: 1 });
  });

  it('notices an error event at the end of a relayed stream', () => {
    expect(sniff('anthropic-messages', `${delta(1)}event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n`, 16).upstreamError).toBe(true);
    expect(sniff('openai-chat', `${delta(1)}data: {"error":{"message":"boom"}}\n\n`, 16).upstreamError).toBe(true);
  });

  it('takes no usage or error from inside a string, split into pieces of any size', () => {
    const fakeUsage = 'data: {"choices":[{"index":0,"delta":{"content":"\\"usage\\":{\\"prompt_tokens\\":999} usage error"}}],"usage":null}\n\n';
    const valueNotKey = 'data: {"choices":[{"index":0,"delta":{"content":"usage"},"finish_reason":"error"}]}\n\n';
    for (const size of [1, 5, 64]) {
      expect(sniff('openai-chat', `${delta(1)}${fakeUsage}${valueNotKey}data: [DONE]\n\n`, size)).toEqual({ usage: undefined, upstreamError: false });
      const withUsage = `${delta(1)}${fakeUsage}data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\ndata: [DONE]\n\n`;
      expect(sniff('openai-chat', withUsage, size).usage).toEqual({ inputTokens: 3, outputTokens: 2, cachedTokens: undefined });
    }
  });

  it('reads CRLF streams, pings after message_delta, and an error after the usage', () => {
    const anthropic =
      'event: message_start\r\ndata: {"type":"message_start","message":{"usage":{"input_tokens":8,"output_tokens":1}}}\r\n\r\n' +
      'event: content_block_delta\r\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}\r\n\r\n' +
      'event: content_block_stop\r\ndata: {"type":"content_block_stop","index":0}\r\n\r\n' +
      'event: message_delta\r\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}\r\n\r\n' +
      'event: ping\r\ndata: {"type":"ping"}\r\n\r\nevent: message_stop\r\ndata: {"type":"message_stop"}\r\n\r\n';
    for (const size of [1, 9, anthropic.length]) {
      expect(sniff('anthropic-messages', anthropic, size)).toEqual({ usage: { inputTokens: 8, outputTokens: 5, cachedTokens: undefined }, upstreamError: false });
    }
    const openai = `${delta(1)}data: {"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":1}}\n\ndata: {"error":{"message":"late failure"}}\n\ndata: [DONE]\n\n`;
    expect(sniff('openai-chat', openai, 7)).toEqual({ usage: { inputTokens: 4, outputTokens: 1, cachedTokens: undefined }, upstreamError: true });
  });

  it('finishes a multi-MiB stream by reading only its end', () => {
    let text = '';
    for (let index = 0; index < 30_000; index++) text += delta(index); // ~3.6 MB
    text += 'data: {"choices":[],"usage":{"prompt_tokens":21,"completion_tokens":30000}}\n\ndata: [DONE]\n\n';
    const sniffer = new StreamUsageSniffer('openai-chat');
    const bytes = Buffer.from(text);
    for (let offset = 0; offset < bytes.length; offset += 16 * 1024) sniffer.observe(bytes.subarray(offset, offset + 16 * 1024));
    expect(sniffer.finish()).toEqual({ usage: { inputTokens: 21, outputTokens: 30000, cachedTokens: undefined }, upstreamError: false });
    // one 2 MiB line at the end, cut into small pieces: its start is out of the kept window, so no usage (and no hang)
    const hugeLine = `data: {"choices":[],"usage":{"prompt_tokens":1},"pad":"${'z'.repeat(2 * 1024 * 1024)}"}\n\n`;
    expect(sniff('openai-chat', `${delta(1)}${hugeLine}`, 4096)).toEqual({ usage: undefined, upstreamError: false });
  });

  it('tells a Gemini stream that ends in an error object from one that ends in an answer, in both framings', () => {
    const chunk = (text: string): string => `{"candidates":[{"content":{"role":"model","parts":[{"text":${JSON.stringify(text)}}]}}],"modelVersion":"gemini-x"}`;
    const last = '{"candidates":[{"content":{"role":"model","parts":[{"text":"."}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":3,"totalTokenCount":10}}';
    const error = '{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}';
    const sse = (chunks: string[]): string => chunks.map((text) => `data: ${text}\r\n\r\n`).join('');
    const array = (chunks: string[]): string => `[${chunks.join(',\r\n')}]`;
    const cases: [string[], boolean][] = [
      [[chunk('a'), chunk('b'), last], false],
      [[chunk('a'), error], true],
      [[error], true],
      [[chunk('the word "error" in a text, quoted'), last], false], // escaped quotes inside text are not a key
      [[error, chunk('a recovered answer'), last], false], // an error before the last candidates is not the end
      [[chunk('no usage, no finish')], false],
    ];
    for (const [chunks, endsInError] of cases) {
      for (const text of [sse(chunks), array(chunks)]) {
        for (const size of [1, 13, text.length]) expect(sniff('gemini', text, size).upstreamError, text).toBe(endsInError);
        // The rule it implements, read literally on the whole text (shorter than the kept tail).
        expect(Buffer.from(text).lastIndexOf('"error"') > Buffer.from(text).lastIndexOf('"candidates"')).toBe(endsInError);
      }
    }
    expect(sniff('gemini', sse([chunk('a'), last]), 5).usage).toEqual({ inputTokens: 7, outputTokens: 3, cachedTokens: undefined });
  });
});
