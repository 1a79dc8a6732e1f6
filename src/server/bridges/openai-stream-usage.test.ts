import { describe, expect, it } from 'vitest';
import { createUsageChunkStripper, withUsageRequested } from './openai-stream-usage.js';

const frames = [
  'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\n\n',
  'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n',
  'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7}}\n\n',
  'data: [DONE]\n\n',
];
const whole = frames.join('');
const expected = frames[0]! + frames[1]! + frames[3]!;

function run(pieces: Buffer[]): string {
  const stripper = createUsageChunkStripper();
  return pieces.map((piece) => String(stripper.push(piece))).join('') + String(stripper.flush());
}

describe('the usage chunk the gateway asked for', () => {
  it('is taken out whatever the split, every other byte relayed unchanged', () => {
    const bytes = Buffer.from(whole);
    expect(run([bytes])).toBe(expected);
    for (let cut = 1; cut < bytes.length; cut += 7) expect(run([bytes.subarray(0, cut), bytes.subarray(cut)])).toBe(expected);
    expect(run([...bytes].map((byte) => Buffer.from([byte])))).toBe(expected);
  });

  it('is asked for by splicing the member in (valid JSON, nothing else changed), or by re-serialising when stream_options exists', () => {
    const body = { model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] };
    const spliced = withUsageRequested(Buffer.from(JSON.stringify(body)), body, 'gpt-test', false);
    expect(JSON.parse(String(spliced))).toEqual({ ...body, stream_options: { include_usage: true } });
    const withOptions = { ...body, stream_options: { include_obfuscation: false } };
    expect(JSON.parse(String(withUsageRequested(Buffer.from(JSON.stringify(withOptions)), withOptions, 'gpt-test', false)))).toEqual({ ...body, stream_options: { include_obfuscation: false, include_usage: true } });
    expect(JSON.parse(String(withUsageRequested(Buffer.from(JSON.stringify(body)), body, 'gpt-real', true)))).toMatchObject({ model: 'gpt-real', stream_options: { include_usage: true } });
  });
});
