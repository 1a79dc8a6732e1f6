import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { OpenAIChatChunk } from '../../formats/openai/chat-response.js';
import { createSseParser, type SseEvent } from '../../formats/sse.js';
import { createAnthropicToOpenAIStreamTranslator } from './stream.js';
import { oddPieces, thrown } from '../../../test/helpers/translator-testing.js';

const created = 1_735_689_600;

function fixtureText(name: string): string {
  return readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
}

/** Feeds raw SSE text through the real parser in the given pieces, then through the translator. */
function translatePieces(pieces: string[], includeUsage: boolean): OpenAIChatChunk[] {
  const parser = createSseParser();
  const translator = createAnthropicToOpenAIStreamTranslator({ model: 'sonnet', created, includeUsage });
  const chunks: OpenAIChatChunk[] = [];
  for (const piece of pieces) for (const event of parser.push(piece)) chunks.push(...translator.push(event));
  for (const event of parser.flush()) chunks.push(...translator.push(event));
  chunks.push(...translator.flush());
  return chunks;
}

function translateFixture(name: string, includeUsage: boolean): OpenAIChatChunk[] {
  return translatePieces([fixtureText(name)], includeUsage);
}

// `model` is what the upstream's message_start reports; `sonnet` (the context's) only where none was sent.
const base = { id: 'chatcmpl-01QC4g3HwBThD4BaNtBckFDJ', object: 'chat.completion.chunk', created, model: 'claude-sonnet-4-5-20250929' } as const;
const choice = (delta: object, finishReason: string | null = null) => [{ index: 0, delta, finish_reason: finishReason, logprobs: null }];

describe('createAnthropicToOpenAIStreamTranslator', () => {
  it('translates a text stream with include_usage: usage null until a final usage chunk', () => {
    expect(translateFixture('text.chunks.txt', true)).toEqual([
      { ...base, choices: choice({ role: 'assistant', content: '' }), usage: null },
      { ...base, choices: choice({ content: 'Hello' }), usage: null },
      { ...base, choices: choice({ content: "! I'm doing well, thank you for asking" }), usage: null },
      { ...base, choices: choice({ content: '. How can I help you today?' }), usage: null },
      { ...base, choices: choice({}, 'stop'), usage: null },
      {
        ...base,
        choices: [],
        // input tokens (12 uncached + 1024 cache reads) are known from message_start
        usage: { prompt_tokens: 1036, completion_tokens: 18, total_tokens: 1054, prompt_tokens_details: { cached_tokens: 1024 } },
      },
    ]);
  });

  it('translates a text stream without include_usage: no usage field and no usage chunk', () => {
    const chunks = translateFixture('text.chunks.txt', false);
    expect(chunks).toHaveLength(5);
    expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true);
    expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason)).toEqual([null, null, null, null, 'stop']);
  });

  it('translates a tool-use stream: one tool_calls index per tool_use block, arguments as deltas', () => {
    const chunks = translateFixture('tool-use.chunks.txt', false);
    const toolDeltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(toolDeltas).toEqual([
      { index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 0, function: { arguments: '{"location":' } },
      { index: 0, function: { arguments: ' "San' } },
      { index: 0, function: { arguments: ' Francisc' } },
      { index: 0, function: { arguments: 'o, CA"' } },
      { index: 0, function: { arguments: ', "unit": "fah' } },
      { index: 0, function: { arguments: 'renheit"}' } },
      { index: 1, id: 'toolu_01Xb3LrGk8Qp2mYv7NcD4eWs', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 1, function: { arguments: '{"location": "Paris, Fr' } },
      { index: 1, function: { arguments: 'ance", "unit": "celsius"}' } },
    ]);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe("Okay, let's check the weather in both cities:");
    expect(chunks.at(-1)).toEqual({ ...base, id: 'chatcmpl-014p7gG3wDgGV9EUtLvnow3U', choices: choice({}, 'tool_calls') });
  });

  it('concatenated argument deltas equal the full JSON of each tool call', () => {
    const argumentsByIndex = new Map<number, string>();
    for (const chunk of translateFixture('tool-use.chunks.txt', false)) {
      for (const toolCall of chunk.choices[0]?.delta.tool_calls ?? []) {
        argumentsByIndex.set(toolCall.index, (argumentsByIndex.get(toolCall.index) ?? '') + (toolCall.function?.arguments ?? ''));
      }
    }
    expect([...argumentsByIndex.entries()].map(([index, json]) => [index, JSON.parse(json) as unknown])).toEqual([
      [0, { location: 'San Francisco, CA', unit: 'fahrenheit' }],
      [1, { location: 'Paris, France', unit: 'celsius' }],
    ]);
  });

  it.each(['text.chunks.txt', 'tool-use.chunks.txt'])('gives the same chunks for %s fed in odd byte splits and with CRLF', (name) => {
    const text = fixtureText(name);
    const whole = translatePieces([text], true);
    expect(whole.length).toBeGreaterThan(4);
    expect(translatePieces(oddPieces(text, [1]), true)).toEqual(whole);
    expect(translatePieces(oddPieces(text, [3, 7, 13, 2, 101]), true)).toEqual(whole);
    expect(translatePieces(oddPieces(text.replaceAll('\n', '\r\n'), [5, 1, 17]), true)).toEqual(whole);
  });

  it('gives a tool call whose block had no input_json_delta the arguments "{}" (valid JSON), once, before the finish chunk', () => {
    const chunks = translateFixture('tool-use-no-input.chunks.txt', false);
    const toolDeltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(toolDeltas).toEqual([
      { index: 0, id: 'toolu_01NoInputClockFixture01', type: 'function', function: { name: 'get_current_time', arguments: '' } },
      { index: 0, function: { arguments: '{}' } },
      { index: 1, id: 'toolu_01NoInputDateFixture002', type: 'function', function: { name: 'get_current_date', arguments: '' } },
      { index: 1, function: { arguments: '{}' } },
    ]);
    const joined = (index: number): string =>
      toolDeltas.filter((delta) => delta.index === index).map((delta) => delta.function?.arguments ?? '').join('');
    expect(JSON.parse(joined(0))).toEqual({});
    expect(JSON.parse(joined(1))).toEqual({});
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('sends a complete input from content_block_start when no delta follows, and "{}" when the stream skips content_block_stop', () => {
    const translator = createAnthropicToOpenAIStreamTranslator({ model: 'sonnet', created, includeUsage: false });
    const event = (data: object): SseEvent => ({ event: (data as { type: string }).type, data: JSON.stringify(data) });
    translator.push(event({ type: 'message_start', message: { id: 'msg_abc' } }));
    translator.push(event({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_a', name: 'a', input: { path: '/tmp' } } }));
    expect(translator.push(event({ type: 'content_block_stop', index: 0 })).map((chunk) => chunk.choices[0]?.delta)).toEqual([
      { tool_calls: [{ index: 0, function: { arguments: '{"path":"/tmp"}' } }] },
    ]);
    translator.push(event({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_b', name: 'b', input: {} } }));
    expect(translator.push(event({ type: 'message_delta', delta: { stop_reason: 'tool_use' } })).map((chunk) => chunk.choices[0])).toEqual([
      { index: 0, delta: { tool_calls: [{ index: 1, function: { arguments: '{}' } }] }, finish_reason: null, logprobs: null },
      { index: 0, delta: {}, finish_reason: 'tool_calls', logprobs: null },
    ]);
  });

  it('usage reflects cumulative message_delta counts when they carry input tokens', () => {
    const translator = createAnthropicToOpenAIStreamTranslator({ model: 'sonnet', created, includeUsage: true });
    const event = (data: object): SseEvent => ({ event: (data as { type: string }).type, data: JSON.stringify(data) });
    translator.push(event({ type: 'message_start', message: { id: 'msg_abc', usage: { input_tokens: 10, output_tokens: 1 } } }));
    translator.push(event({ type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { input_tokens: 14, cache_read_input_tokens: null, output_tokens: 50 } }));
    expect(translator.push(event({ type: 'message_stop' }))).toEqual([
      {
        id: 'chatcmpl-abc',
        object: 'chat.completion.chunk',
        created,
        model: 'sonnet',
        choices: [],
        usage: { prompt_tokens: 14, completion_tokens: 50, total_tokens: 64, prompt_tokens_details: { cached_tokens: 0 } },
      },
    ]);
  });

  it('drops thinking blocks and deltas, ignores ping and unknown events, and ignores everything after message_stop', () => {
    const translator = createAnthropicToOpenAIStreamTranslator({ model: 'sonnet', created, includeUsage: false });
    const event = (data: object): SseEvent => ({ event: (data as { type: string }).type, data: JSON.stringify(data) });
    const outputs = [
      { type: 'message_start', message: { id: 'msg_think', usage: { input_tokens: 5, output_tokens: 1 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me think.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM' } },
      { type: 'ping' },
      { type: 'some_future_event', index: 3 },
      { type: 'content_block_start', index: 1, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"query":"x"}' } },
      { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'Answer.' } },
      { type: 'message_delta', delta: { stop_reason: 'refusal', stop_sequence: null }, usage: { output_tokens: 9 } },
      { type: 'message_stop' },
      { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'late' } },
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    ].map((data) => translator.push(event(data)));
    expect(outputs.map((chunks) => chunks.map((chunk) => [chunk.choices[0]?.delta, chunk.choices[0]?.finish_reason]))).toEqual([
      [[{ role: 'assistant', content: '' }, null]],
      [],
      [],
      [],
      [],
      [],
      [],
      [],
      [],
      [[{ content: 'Answer.' }, null]],
      [[{}, 'content_filter']],
      [],
      [],
      [],
    ]);
    expect(translator.flush()).toEqual([]);
  });

  it('throws GW_UPSTREAM_STREAM_FAILED with the upstream message on event: error part-way', () => {
    const parser = createSseParser();
    const translator = createAnthropicToOpenAIStreamTranslator({ model: 'sonnet', created, includeUsage: true });
    const delivered: OpenAIChatChunk[] = [];
    const error = thrown(() => {
      for (const event of parser.push(fixtureText('error.chunks.txt'))) delivered.push(...translator.push(event));
    });
    expect(delivered.map((chunk) => chunk.choices[0]?.delta)).toEqual([{ role: 'assistant', content: '' }, { content: 'Once upon a time' }]);
    expect(error.code).toBe('GW_UPSTREAM_STREAM_FAILED');
    expect(error.message).toBe('Overloaded');
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(502);
  });

  it('throws on an error event without a readable body too', () => {
    const translator = createAnthropicToOpenAIStreamTranslator({ model: 'sonnet', created, includeUsage: false });
    const error = thrown(() => translator.push({ event: 'error', data: 'not json' }));
    expect(error.code).toBe('GW_UPSTREAM_STREAM_FAILED');
    expect(error.message).toBe('upstream stream error (unknown type)');
  });

  it('throws when a known event carries unreadable JSON', () => {
    const translator = createAnthropicToOpenAIStreamTranslator({ model: 'sonnet', created, includeUsage: false });
    const error = thrown(() => translator.push({ event: 'content_block_delta', data: '{"type":"content_block_delta",' }));
    expect(error.message).toBe('upstream sent an unreadable content_block_delta event');
  });

  it('flush throws when the upstream ended before message_stop', () => {
    const text = fixtureText('text.chunks.txt');
    const cut = text.slice(0, text.indexOf('event: message_stop'));
    const error = thrown(() => translatePieces([cut], true));
    expect(error.code).toBe('GW_UPSTREAM_STREAM_FAILED');
    expect(error.message).toBe('upstream stream ended before message_stop');
    expect(thrown(() => createAnthropicToOpenAIStreamTranslator({ model: 'sonnet', created, includeUsage: false }).flush()).code).toBe(
      'GW_UPSTREAM_STREAM_FAILED',
    );
  });

  it('starts the answer on a content event that arrives before message_start (lenient read)', () => {
    const translator = createAnthropicToOpenAIStreamTranslator({ model: 'sonnet', created, includeUsage: false });
    const chunks = translator.push({ event: undefined, data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}' });
    expect(chunks).toEqual([
      { id: 'chatcmpl-anthropic-1735689600', object: 'chat.completion.chunk', created, model: 'sonnet', choices: choice({ role: 'assistant', content: '' }) },
      { id: 'chatcmpl-anthropic-1735689600', object: 'chat.completion.chunk', created, model: 'sonnet', choices: choice({ content: 'Hi' }) },
    ]);
  });
});
