import { readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { describe, expect, it } from 'vitest';
import type { AnthropicStreamEvent } from '../../formats/anthropic/messages-response.js';
import { createSseParser, type SseEvent } from '../../formats/sse.js';
import { createOpenAIToAnthropicStreamTranslator } from './stream.js';
import { oddPieces, thrown } from '../../../test/helpers/translator-testing.js';

const context = { model: 'sonnet', messageId: 'msg_gateway0001', estimatedInputTokens: 1500 };

function fixtureBytes(name: string): Buffer {
  return readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url));
}

/** Feeds raw bytes through a UTF-8 decoder, the real SSE parser and the translator, piece by piece. */
function translateBytePieces(pieces: Buffer[]): AnthropicStreamEvent[] {
  const decoder = new StringDecoder('utf8');
  const parser = createSseParser();
  const translator = createOpenAIToAnthropicStreamTranslator(context);
  const events: AnthropicStreamEvent[] = [];
  for (const piece of pieces) for (const event of parser.push(decoder.write(piece))) events.push(...translator.push(event));
  for (const event of parser.push(decoder.end())) events.push(...translator.push(event));
  for (const event of parser.flush()) events.push(...translator.push(event));
  events.push(...translator.flush());
  return events;
}

/** Builds one OpenAI `data:` event for hand-made cases. */
function chunk(delta: Record<string, unknown>, finishReason: string | null = null): SseEvent {
  return { event: undefined, data: JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finishReason }] }) };
}
const done: SseEvent = { event: undefined, data: '[DONE]' };

function run(events: SseEvent[]): AnthropicStreamEvent[] {
  const translator = createOpenAIToAnthropicStreamTranslator(context);
  const output = events.flatMap((event) => translator.push(event));
  return [...output, ...translator.flush()];
}

/** message_start as the translator sends it; `model` is the upstream's (hand-made chunks name none: the context's). */
const messageStartFor = (model: string): AnthropicStreamEvent => ({
  type: 'message_start',
  message: {
    id: 'msg_gateway0001',
    type: 'message',
    role: 'assistant',
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 1500, output_tokens: 0 },
  },
});
const messageStart = messageStartFor('sonnet');
const textDelta = (index: number, text: string): AnthropicStreamEvent => ({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
const jsonDelta = (index: number, partial_json: string): AnthropicStreamEvent => ({
  type: 'content_block_delta',
  index,
  delta: { type: 'input_json_delta', partial_json },
});

describe('createOpenAIToAnthropicStreamTranslator', () => {
  it('translates a text stream into the exact Anthropic event sequence, with real usage from the usage chunk', () => {
    expect(translateBytePieces([fixtureBytes('text.chunks.txt')])).toEqual([
      messageStartFor('gpt-4o-mini-2024-07-18'),
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      textDelta(0, 'Hello'),
      textDelta(0, '!'),
      textDelta(0, ' How'),
      textDelta(0, ' can'),
      textDelta(0, ' I help'),
      textDelta(0, ' you today? '),
      textDelta(0, 'Ünïcödé ✓'),
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 12, input_tokens: 276, cache_read_input_tokens: 1024 },
      },
      { type: 'message_stop' },
    ]);
  });

  it('translates two parallel tool calls into two tool_use blocks whose partial_json joins to the full arguments', () => {
    const events = translateBytePieces([fixtureBytes('tool-calls.chunks.txt')]);
    // The first call streams live; the second is complete only at finish_reason (it could still
    // interleave until then) and arrives as one delta.
    expect(events.map((event) => event.type)).toEqual([
      'message_start',
      'content_block_start',
      ...Array<string>(6).fill('content_block_delta'),
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[1]).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'tool_use', id: 'call_FixtureWeatherParis01', name: 'get_weather', input: {} },
    });
    expect(events[9]).toEqual({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'call_FixtureWeatherTokyo02', name: 'get_weather', input: {} },
    });
    const joined = (index: number) =>
      events
        .map((event) => (event.type === 'content_block_delta' && event.index === index && event.delta.type === 'input_json_delta' ? event.delta.partial_json : ''))
        .join('');
    expect(joined(0)).toBe('{"location": "Paris, France", "unit": "celsius"}');
    expect(joined(1)).toBe('{"location": "Tokyo, Japan", "unit": "celsius"}');
    expect(JSON.parse(joined(1))).toEqual({ location: 'Tokyo, Japan', unit: 'celsius' });
    expect(events.at(-2)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 51, input_tokens: 82, cache_read_input_tokens: 0 },
    });
  });

  it.each([
    ['text.chunks.txt', [1, 3, 7, 13, 29]],
    ['text.chunks.txt', [5, 11]],
    ['tool-calls.chunks.txt', [1, 3, 7, 13, 29]],
    ['tool-calls.chunks.txt', [17, 2, 61]],
  ])('gives identical events for %s split into byte pieces of sizes %j (UTF-8 split mid-character)', (name, sizes) => {
    const bytes = fixtureBytes(name);
    expect(translateBytePieces(oddPieces(bytes, sizes))).toEqual(translateBytePieces([bytes]));
  });

  it('throws GW_UPSTREAM_STREAM_FAILED with the upstream message on an error chunk mid-stream', () => {
    const parser = createSseParser();
    const translator = createOpenAIToAnthropicStreamTranslator(context);
    const events = parser.push(fixtureBytes('error.chunks.txt').toString('utf8'));
    const emitted: AnthropicStreamEvent[] = [];
    const error = thrown(() => {
      for (const event of events) emitted.push(...translator.push(event));
    });
    expect(error.code).toBe('GW_UPSTREAM_STREAM_FAILED');
    expect(error.status).toBe(502);
    expect(error.message).toBe('The server had an error while processing your request. Sorry about that!');
    expect(emitted.map((event) => event.type)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta']);
  });

  it('throws on an error chunk before anything was sent (so the server can still answer with an HTTP error)', () => {
    const translator = createOpenAIToAnthropicStreamTranslator(context);
    const error = thrown(() => translator.push({ event: undefined, data: '{"error":{"message":"model overloaded","code":503}}' }));
    expect(error.code).toBe('GW_UPSTREAM_STREAM_FAILED');
    expect(error.message).toBe('model overloaded');
  });

  it('throws when the upstream ends before a finish_reason or [DONE]', () => {
    const translator = createOpenAIToAnthropicStreamTranslator(context);
    translator.push(chunk({ role: 'assistant', content: 'Half an ans' }));
    const error = thrown(() => translator.flush());
    expect(error.code).toBe('GW_UPSTREAM_STREAM_FAILED');
    expect(error.message).toBe('upstream stream ended before finish');
    expect(thrown(() => createOpenAIToAnthropicStreamTranslator(context).flush()).code).toBe('GW_UPSTREAM_STREAM_FAILED');
  });

  it('throws on a chunk that is not JSON', () => {
    const translator = createOpenAIToAnthropicStreamTranslator(context);
    expect(thrown(() => translator.push({ event: undefined, data: '{"id": "chatcmpl-x", "choi' })).code).toBe('GW_UPSTREAM_STREAM_FAILED');
  });

  it('closes properly at flush when the upstream sent a finish_reason but no [DONE], estimating output without usage', () => {
    expect(run([chunk({ role: 'assistant', content: 'abcdefghij' }), chunk({}, 'length')])).toEqual([
      messageStart,
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      textDelta(0, 'abcdefghij'),
      { type: 'content_block_stop', index: 0 },
      // No usage chunk: output ≈ ceil(10 bytes / 4); no input_tokens, so message_start's estimate stands.
      { type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 3 } },
      { type: 'message_stop' },
    ]);
  });

  it('interleaves text and tool calls as separate blocks, closing each before the next', () => {
    const events = run([
      chunk({ role: 'assistant', content: 'Reading.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'read', arguments: '{"p":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({ content: 'Then more.' }),
      chunk({}, 'tool_calls'),
      done,
    ]);
    expect(events).toEqual([
      messageStart,
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      textDelta(0, 'Reading.'),
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_a', name: 'read', input: {} } },
      jsonDelta(1, '{"p":'),
      jsonDelta(1, '1}'),
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } },
      textDelta(2, 'Then more.'),
      { type: 'content_block_stop', index: 2 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 7 } },
      { type: 'message_stop' },
    ]);
  });

  it('handles several tool calls in one chunk with complete arguments, and servers that omit index', () => {
    const events = run([
      chunk({
        tool_calls: [
          { index: 0, id: 'call_a', function: { name: 'a', arguments: '{}' } },
          { index: 1, id: 'call_b', function: { name: 'b', arguments: '{"x":1}' } },
        ],
      }),
      chunk({ tool_calls: [{ id: 'call_c', function: { name: 'c', arguments: '{"y"' } }] }),
      chunk({ tool_calls: [{ function: { arguments: ':2}' } }] }),
      chunk({}, 'stop'),
      done,
    ]);
    const starts = events.filter((event) => event.type === 'content_block_start');
    expect(starts.map((event) => [event.index, event.content_block])).toEqual([
      [0, { type: 'tool_use', id: 'call_a', name: 'a', input: {} }],
      [1, { type: 'tool_use', id: 'call_b', name: 'b', input: {} }],
      [2, { type: 'tool_use', id: 'call_c', name: 'c', input: {} }],
    ]);
    expect(events.filter((event) => event.type === 'content_block_delta')).toEqual([jsonDelta(0, '{}'), jsonDelta(1, '{"x":1}'), jsonDelta(2, '{"y":2}')]);
    // finish_reason `stop` after tool calls still tells the Anthropic client to run the tools.
    expect(events.at(-2)).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'tool_use' } });
  });

  it('makes a deterministic tool id from the message id when the upstream sends none', () => {
    const events = run([chunk({ tool_calls: [{ index: 0, function: { name: 'ls', arguments: '' } }] }), chunk({}, 'tool_calls'), done]);
    expect(events[1]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_gateway0001_0', name: 'ls', input: {} } });
  });

  it('reassembles tool calls whose argument deltas interleave by index into complete tool_use blocks in index order', () => {
    const events = translateBytePieces([fixtureBytes('tool-calls-interleaved.chunks.txt')]);
    const toolStart = (index: number, id: string, name: string): AnthropicStreamEvent => ({
      type: 'content_block_start',
      index,
      content_block: { type: 'tool_use', id, name, input: {} },
    });
    expect(events).toEqual([
      messageStartFor('qwen2.5-coder-32b-instruct'),
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      textDelta(0, 'Checking both cities.'),
      { type: 'content_block_stop', index: 0 },
      // Tool call 0 streams live; the calls that interleave with it wait until the finish.
      toolStart(1, 'call_InterleavedParis01', 'get_weather'),
      jsonDelta(1, '{"location": '),
      jsonDelta(1, '"Paris, France"'),
      jsonDelta(1, ', "unit": "celsius"}'),
      { type: 'content_block_stop', index: 1 },
      toolStart(2, 'call_InterleavedTokyo02', 'get_weather'),
      jsonDelta(2, '{"location": "Tōkyō, Japan", "unit": "celsius"}'),
      { type: 'content_block_stop', index: 2 },
      toolStart(3, 'call_InterleavedClock03', 'get_time'),
      { type: 'content_block_stop', index: 3 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 58, input_tokens: 96, cache_read_input_tokens: 0 } },
      { type: 'message_stop' },
    ]);
  });

  it('holds text that arrives while a tool call streams until that call is complete, so a resumed call never splits', () => {
    const events = run([
      chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'a', arguments: '{"p":' } }] }),
      chunk({ content: 'Meanwhile.' }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({}, 'tool_calls'),
      done,
    ]);
    expect(events.slice(1, -2)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'call_a', name: 'a', input: {} } },
      jsonDelta(0, '{"p":'),
      jsonDelta(0, '1}'),
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      textDelta(1, 'Meanwhile.'),
      { type: 'content_block_stop', index: 1 },
    ]);
  });

  it('fails the stream instead of holding more than the bound of interleaved arguments', () => {
    const translator = createOpenAIToAnthropicStreamTranslator(context);
    translator.push(chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'a', arguments: '{' } }] }));
    translator.push(chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'b', arguments: '{' } }] }));
    const piece = 'x'.repeat(1024 * 1024);
    const error = thrown(() => {
      for (let count = 0; count < 9; count++) translator.push(chunk({ tool_calls: [{ index: 1, function: { arguments: piece } }] }));
    });
    expect(error.code).toBe('GW_UPSTREAM_STREAM_FAILED');
    expect(error.message).toMatch(/more than 8 MiB/);
  });

  it('emits the full sequence for [DONE] without any content, and nothing after message_stop', () => {
    const translator = createOpenAIToAnthropicStreamTranslator(context);
    expect(translator.push(done)).toEqual([
      messageStart,
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 0 } },
      { type: 'message_stop' },
    ]);
    expect(translator.push(chunk({ content: 'late' }))).toEqual([]);
    expect(translator.push(done)).toEqual([]);
    expect(translator.flush()).toEqual([]);
  });

  it('lets an empty-choices usage chunk only update usage, and maps content_filter to refusal', () => {
    const translator = createOpenAIToAnthropicStreamTranslator(context);
    translator.push(chunk({ role: 'assistant', content: 'I' }));
    expect(translator.push(chunk({}, 'content_filter'))).toEqual([{ type: 'content_block_stop', index: 0 }]);
    const usage = { prompt_tokens: 40, completion_tokens: 1, total_tokens: 41 };
    expect(translator.push({ event: undefined, data: JSON.stringify({ id: 'chatcmpl-x', choices: [], usage }) })).toEqual([]);
    expect(translator.push(done)).toEqual([
      { type: 'message_delta', delta: { stop_reason: 'refusal', stop_sequence: null }, usage: { output_tokens: 1, input_tokens: 40, cache_read_input_tokens: 0 } },
      { type: 'message_stop' },
    ]);
  });

  it('ignores an empty role-only first delta (no empty text block) and blank data lines', () => {
    const events = run([{ event: undefined, data: '' }, chunk({ role: 'assistant', content: '' }), chunk({}, 'stop'), done]);
    expect(events.map((event) => event.type)).toEqual(['message_start', 'message_delta', 'message_stop']);
  });
});
