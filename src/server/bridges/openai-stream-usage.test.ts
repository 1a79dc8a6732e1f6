import { describe, expect, it } from 'vitest';
import { createUsageChunkStripper, withUsageRequested } from './openai-stream-usage.js';

/** An OpenAI stream as the upstream sends it when asked for usage: `"usage":null` closes every chunk but the usage chunk. */
const frames = [
  'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\n\n',
  'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n',
  'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7}}\n\n',
  'data: [DONE]\n\n',
];
const whole = frames.join('');
/** What a client that did not ask for usage gets: the chunks as OpenAI sends them unasked (no usage member, no usage chunk). */
const expected =
  'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n' +
  'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
  'data: [DONE]\n\n';

function run(pieces: Buffer[]): string {
  const stripper = createUsageChunkStripper();
  return pieces.map((piece) => String(stripper.push(piece))).join('') + String(stripper.flush());
}

/** The result of every two-piece split and of one byte per piece is the same as of the whole. */
function expectEverySplit(text: string, result: string): void {
  const bytes = Buffer.from(text);
  expect(run([bytes])).toBe(result);
  for (let cut = 1; cut < bytes.length; cut += 1) expect(run([bytes.subarray(0, cut), bytes.subarray(cut)])).toBe(result);
  expect(run([...bytes].map((byte) => Buffer.from([byte])))).toBe(result);
}

describe('what asking for usage added, taken out for a client that did not ask', () => {
  it('the usage chunk and the "usage":null member of every chunk go, whatever the split (a member split across two reads included)', () => {
    expectEverySplit(whole, expected);
  });

  it('events ending in CRLF: the same, and each event leaves when it is complete (not held to the end of the stream)', () => {
    const crlf = (text: string) => text.replaceAll('\n\n', '\r\n\r\n');
    expectEverySplit(crlf(whole), crlf(expected));
    const stripper = createUsageChunkStripper();
    expect(String(stripper.push(Buffer.from(crlf(frames[0]!))))).toBe(crlf(expected.split('\n\n')[0]! + '\n\n'));
  });

  it('"usage":null as text of a content string or of tool-call arguments is relayed unchanged (an escaped quote cannot match)', () => {
    const content = JSON.stringify({ id: 'c', choices: [{ index: 0, delta: { content: 'a literal ,"usage":null}\n\n and ,"usage":null} again' } }] });
    const tool = JSON.stringify({ id: 'c', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"x":1,"usage":null}' } }] } }] });
    const upstream = `data: ${content.slice(0, -1)},"usage":null}\n\ndata: ${tool.slice(0, -1)},"usage":null}\n\ndata: [DONE]\n\n`;
    expectEverySplit(upstream, `data: ${content}\n\ndata: ${tool}\n\ndata: [DONE]\n\n`);
  });

  it('only the member that closes the chunk goes: a nested one, one followed by another member, or one written with a space stays', () => {
    const kept = [
      'data: {"choices":[{"index":0,"delta":{"content":"x"},"usage":null}]}\n\n',
      'data: {"choices":[{"index":0,"delta":{"content":"x"}}],"usage":null,"extra":1}\n\n',
      'data: {"choices":[{"index":0,"delta":{"content":"x"}}],"usage": null}\n\n',
      'data: {"choices":[{"index":0,"delta":{"content":"x"},"usage":null}],"usage":null}\n\n',
    ];
    expectEverySplit(kept.join(''), kept.slice(0, 3).join('') + 'data: {"choices":[{"index":0,"delta":{"content":"x"},"usage":null}]}\n\n');
  });

  it('a stream cut short: what is held is relayed as it came', () => {
    const stripper = createUsageChunkStripper();
    expect(String(stripper.push(Buffer.from(frames[0]!.slice(0, 40))))).toBe('');
    expect(String(stripper.abort())).toBe(frames[0]!.slice(0, 40));
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
