import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AnthropicStreamEvent } from '../../formats/anthropic/messages-response.js';
import { anthropicStreamEventText } from '../../formats/anthropic/stream-event-text.js';
import type { GeminiGenerateContentResponse } from '../../formats/gemini/generate-content-response.js';
import { geminiChunkText } from '../../formats/gemini/stream-chunk-text.js';
import { createGeminiStreamParser } from '../../formats/gemini/stream-parser.js';
import type { ResponsesAnswerContext } from '../../formats/responses/response-builder.js';
import { createResponsesEventEncoder, responsesStreamEventText } from '../../formats/responses/stream-event-text.js';
import type { ResponsesStreamEvent } from '../../formats/responses/stream-writer.js';
import { createSseParser, type SseEvent, type SseParser } from '../../formats/sse.js';
import { createGeminiToAnthropicStreamTranslator } from '../../translate/anthropic-to-gemini/stream.js';
import { createOpenAIToAnthropicStreamTranslator } from '../../translate/anthropic-to-openai/stream.js';
import { createAnthropicToGeminiStreamTranslator } from '../../translate/gemini-to-anthropic/stream.js';
import { createOpenAIToGeminiStreamTranslator } from '../../translate/gemini-to-openai/stream.js';
import { createAnthropicToResponsesStreamTranslator } from '../../translate/responses-to-anthropic/stream.js';
import { createOpenAIToResponsesStreamTranslator } from '../../translate/responses-to-openai/stream.js';

/**
 * The template-built SSE frames and chunks (formats/anthropic/stream-event-text.ts,
 * formats/responses/stream-event-text.ts, formats/gemini/stream-chunk-text.ts) must be byte for byte what `JSON.stringify` of the event
 * gave before: every event the translators produce from their recorded upstream streams, plus
 * strings JSON must escape, is encoded both ways and compared.
 */
const reference = (event: { type: string; [field: string]: unknown }): string => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

interface Translator<Output> {
  push(event: SseEvent): Output[];
  flush(): Output[];
  abort(): Output[];
}

/** Every output of a replay, including what a failing stream still gives through abort(). */
function replay<Output>(translator: Translator<Output>, parser: SseParser, text: string): Output[] {
  const outputs: Output[] = [];
  try {
    for (const event of [...parser.push(text), ...parser.flush()]) outputs.push(...translator.push(event));
    outputs.push(...translator.flush());
  } catch {
    outputs.push(...translator.abort());
  }
  return outputs;
}

const fixtures = (folder: string): string[] => {
  const directory = new URL(`../../translate/${folder}/__fixtures__/`, import.meta.url);
  return readdirSync(directory)
    .filter((file) => file.endsWith('.chunks.txt') || file.endsWith('.array.txt'))
    .map((file) => readFileSync(new URL(file, directory), 'utf8'));
};

/** Strings JSON.stringify escapes: quotes, backslashes, controls, a lone surrogate, U+2028, markup. */
const awkward = ['', 'say "hi"\\n', 'line\nbreak\ttab\u0000\u001f', '\ud800 lone', 'sep\u2028arator', '</script><b>', 'émoji 😀', '{"partial": [1, '];

const responsesContext: ResponsesAnswerContext = { responseId: 'resp_test1', createdAt: 1_735_689_600, model: 'gpt-up', request: { model: 'gpt-client', input: 'hi' } };

describe('anthropicStreamEventText', () => {
  const events: AnthropicStreamEvent[] = [
    ...fixtures('anthropic-to-openai').flatMap((text) =>
      replay(createOpenAIToAnthropicStreamTranslator({ model: 'up', messageId: 'msg_test', estimatedInputTokens: 7 }), createSseParser(), text),
    ),
    ...fixtures('anthropic-to-gemini').flatMap((text) => replay(createGeminiToAnthropicStreamTranslator({ model: 'up', requestId: 'req-1' }), createGeminiStreamParser(), text)),
    ...awkward.flatMap((text, index): AnthropicStreamEvent[] => [
      { type: 'content_block_delta', index, delta: { type: 'text_delta', text } },
      { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: text } },
      { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: text } },
      { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: text } },
      { type: 'content_block_start', index, content_block: { type: 'text', text } },
      { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: text } },
      { type: 'content_block_start', index, content_block: { type: 'tool_use', id: `toolu_${index}`, name: text, input: {} } },
    ]),
    ...awkward.flatMap((text): AnthropicStreamEvent[] => [
      { type: 'message_start', message: { id: `msg_${text}`, type: 'message', role: 'assistant', model: text, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 0 } } },
      { type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: text }, usage: { output_tokens: 9 } },
    ]),
    // message_start and message_delta with every usage shape the translators build, and shapes the
    // templates must leave to JSON.stringify (a count that is no integer, an unknown key, keys moved).
    ...[
      { input_tokens: 0, output_tokens: 0 },
      { output_tokens: 5, input_tokens: 7, cache_read_input_tokens: 2 },
      { output_tokens: 5, input_tokens: undefined, cache_read_input_tokens: undefined },
      { input_tokens: 1, output_tokens: 2, cache_creation_input_tokens: null, cache_read_input_tokens: null },
      { input_tokens: -0, output_tokens: 2.5 },
      { input_tokens: Number.NaN, output_tokens: 1 },
      { input_tokens: 1e21, output_tokens: 1 },
      { input_tokens: 1, output_tokens: 1, server_tool_use: { web_search_requests: 1 } },
      {},
    ].flatMap((usage): AnthropicStreamEvent[] => [
      { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'up', content: [], stop_reason: null, stop_sequence: null, usage: usage as never } },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: usage as never },
    ]),
    { type: 'message_start', message: { type: 'message', id: 'msg_1', role: 'assistant', model: 'up', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 0 } } },
    { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'up', content: [{ type: 'text', text: 'x' }], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 0 } } },
    { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'up', content: [], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 0 } } },
    { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'up', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 0 } }, type: 'message_start' },
    { type: 'message_delta', usage: { output_tokens: 1 }, delta: { stop_reason: 'end_turn', stop_sequence: null } },
    { type: 'message_delta', delta: { stop_sequence: null, stop_reason: 'end_turn' }, usage: { output_tokens: 1 } },
    { type: 'message_delta', delta: { stop_reason: null, stop_sequence: null }, usage: { output_tokens: 1 } },
    { type: 'message_stop' },
    { type: 'ping' },
    { type: 'error', error: { type: 'api_error', message: 'boom "quoted"' } },
  ];

  it('covers the per-chunk events of the recorded streams', () => {
    const kinds = new Set(events.map((event) => (event.type === 'content_block_delta' ? event.delta.type : event.type)));
    for (const kind of ['message_start', 'content_block_start', 'text_delta', 'input_json_delta', 'content_block_stop', 'message_delta', 'message_stop']) expect(kinds).toContain(kind);
  });

  it('writes every event exactly as JSON.stringify of the event would', () => {
    for (const event of events) expect(anthropicStreamEventText(event)).toBe(reference(event));
  });
});

describe('responsesStreamEventText', () => {
  const events: ResponsesStreamEvent[] = [
    ...fixtures('responses-to-openai').flatMap((text) => replay(createOpenAIToResponsesStreamTranslator(responsesContext), createSseParser(), text)),
    ...fixtures('responses-to-anthropic').flatMap((text) => replay(createAnthropicToResponsesStreamTranslator(responsesContext), createSseParser(), text)),
    ...awkward.flatMap((text, index): ResponsesStreamEvent[] => [
      { type: 'response.output_text.delta', sequence_number: index, item_id: `msg_${text}`, output_index: 0, content_index: 0, delta: text, logprobs: [] },
      { type: 'response.function_call_arguments.delta', sequence_number: index, item_id: 'fc_1', output_index: 1, delta: text },
    ]),
    // Shapes the templates do not cover fall back to JSON.stringify, key order and all.
    { type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'x', logprobs: [{ token: 'x' }] },
    { type: 'response.output_text.delta', sequence_number: 1, output_index: 0, item_id: 'msg_1', content_index: 0, delta: 'x', logprobs: [], obfuscation: 'abc' },
    { type: 'response.function_call_arguments.delta', sequence_number: 2, item_id: 'fc_1', output_index: 1, delta: 'y', obfuscation: 'abc' },
    // The template's keys in another order (the count alone once let these through).
    { type: 'response.output_text.delta', sequence_number: 1, output_index: 0, item_id: 'msg_1', content_index: 0, delta: 'x', logprobs: [] },
    { type: 'response.function_call_arguments.delta', sequence_number: 2, output_index: 1, item_id: 'fc_1', delta: 'y' },
  ];

  it('covers the deltas of the recorded streams', () => {
    const types = new Set(events.map((event) => event.type));
    for (const type of ['response.created', 'response.output_text.delta', 'response.function_call_arguments.delta', 'response.completed']) expect(types).toContain(type);
  });

  it('writes every event exactly as JSON.stringify of the event would', () => {
    for (const event of events) expect(responsesStreamEventText(event)).toBe(reference(event));
  });

  // One stream's encoder writes a response object shared by consecutive events once: over each
  // recorded stream in order (created and in_progress share one), then over events whose response
  // objects are equal but distinct, or the same object after another event, it must still give
  // JSON.stringify's bytes.
  it('writes each stream, through one encoder per stream, exactly as JSON.stringify would', () => {
    const streams = [
      ...fixtures('responses-to-openai').map((text) => replay(createOpenAIToResponsesStreamTranslator(responsesContext), createSseParser(), text)),
      ...fixtures('responses-to-anthropic').map((text) => replay(createAnthropicToResponsesStreamTranslator(responsesContext), createSseParser(), text)),
    ];
    let shared = 0;
    for (const stream of streams) {
      const encode = createResponsesEventEncoder();
      stream.forEach((event, index) => {
        if (index > 0 && event['response'] !== undefined && event['response'] === stream[index - 1]?.['response']) shared++;
        expect(encode(event)).toBe(reference(event));
      });
    }
    expect(shared).toBeGreaterThanOrEqual(streams.length);
    const response = { id: 'resp_1', status: 'in_progress', output: [] as unknown[] };
    const other = { id: 'resp_1', status: 'completed', output: [{ text: awkward.join('') }] };
    const sequence: ResponsesStreamEvent[] = [
      { type: 'response.created', sequence_number: 0, response },
      { type: 'response.in_progress', sequence_number: 1, response: { ...response } },
      { type: 'response.output_text.delta', sequence_number: 2, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'x', logprobs: [] },
      { type: 'response.in_progress', sequence_number: 3, response: other },
      { type: 'response.completed', sequence_number: 4, response: other, extra: true },
      { type: 'response.completed', sequence_number: 5.5, response: other },
      { sequence_number: 6, type: 'response.completed', response: other },
      { type: 'response.completed', sequence_number: 7, response: other },
      { type: 'response.failed', sequence_number: 8, response: null },
    ];
    const encode = createResponsesEventEncoder();
    for (const event of sequence) expect(encode(event)).toBe(reference(event));
    // Another object straight after, and the same object changed after an event in between.
    const again = createResponsesEventEncoder();
    const growing = { id: 'resp_2', status: 'in_progress', output: [] as unknown[] };
    expect(again({ type: 'response.created', sequence_number: 0, response: growing })).toBe(reference({ type: 'response.created', sequence_number: 0, response: growing }));
    expect(again({ type: 'response.in_progress', sequence_number: 1, response: other })).toBe(reference({ type: 'response.in_progress', sequence_number: 1, response: other }));
    expect(again({ type: 'response.created', sequence_number: 2, response: growing })).toBe(reference({ type: 'response.created', sequence_number: 2, response: growing }));
    expect(again({ type: 'response.output_text.delta', sequence_number: 3, item_id: 'msg_2', output_index: 0, content_index: 0, delta: 'y', logprobs: [] })).toContain('"delta":"y"');
    growing.output.push({ text: 'added' });
    expect(again({ type: 'response.completed', sequence_number: 4, response: growing })).toBe(reference({ type: 'response.completed', sequence_number: 4, response: growing }));
  });
});

describe('geminiChunkText', () => {
  const textChunk = (text: string, extra: Partial<GeminiGenerateContentResponse> = {}): GeminiGenerateContentResponse => ({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0 }],
    modelVersion: 'gemini-up',
    ...extra,
  });
  const chunks: GeminiGenerateContentResponse[] = [
    ...fixtures('gemini-to-openai').flatMap((text) => replay(createOpenAIToGeminiStreamTranslator({ model: 'up' }), createSseParser(), text)),
    ...fixtures('gemini-to-anthropic').flatMap((text) => replay(createAnthropicToGeminiStreamTranslator({ model: 'up' }), createSseParser(), text)),
    ...awkward.flatMap((text) => [textChunk(text), textChunk('x', { responseId: text }), textChunk('x', { modelVersion: text })]),
    // Shapes the template does not cover fall back to JSON.stringify, key order and all.
    textChunk('x', { responseId: undefined }),
    textChunk('x', { usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3 } }),
    { modelVersion: 'm', candidates: [{ content: { role: 'model', parts: [{ text: 'moved' }] }, index: 0 }] },
    { candidates: [{ index: 0, content: { parts: [{ text: 'moved' }], role: 'model' } }], modelVersion: 'm' },
    { candidates: [{ content: { role: 'model', parts: [{ text: 'a' }, { text: 'b' }] }, index: 0 }], modelVersion: 'm' },
    { candidates: [{ content: { role: 'model', parts: [{ text: 'a', thought: true }] }, index: 0 }], modelVersion: 'm' },
    { candidates: [{ content: { role: 'model', parts: [{ text: 'a' }] }, index: 0, finishReason: 'STOP' }], modelVersion: 'm' },
    // The last chunk: finishReason, usageMetadata (three or four counts), responseId, function calls;
    // and the shapes its template must leave to JSON.stringify.
    ...awkward.flatMap((text): GeminiGenerateContentResponse[] => [
      { candidates: [{ content: { role: 'model', parts: [] }, finishReason: text as never, index: 0 }], modelVersion: text, usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3 }, responseId: text },
      { candidates: [{ content: { role: 'model', parts: [{ text }, { functionCall: { name: text, args: { [text]: [text] }, id: text } }] }, finishReason: 'STOP', index: 0 }], modelVersion: 'm', usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3, cachedContentTokenCount: 1 } },
    ]),
    { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'MAX_TOKENS', index: 0 }], modelVersion: 'm' },
    { candidates: [{ content: { role: 'model', parts: [{ text: 'a', thought: true }, { text: 'b' }] }, finishReason: 'STOP', index: 0 }], modelVersion: 'm', responseId: 'r' },
    { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP', index: 0 }], modelVersion: 'm', usageMetadata: { promptTokenCount: 1.5, candidatesTokenCount: 2, totalTokenCount: 3 } },
    { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP', index: 0 }], modelVersion: 'm', usageMetadata: { candidatesTokenCount: 2, promptTokenCount: 1, totalTokenCount: 3 } },
    { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP', index: 0 }], modelVersion: 'm', usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3, cachedContentTokenCount: undefined } },
    { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP', index: 0 }], modelVersion: 'm', usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3, thoughtsTokenCount: 4 } as never },
    { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP', index: 0 }], modelVersion: 'm', usageMetadata: undefined },
    { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP', index: 0 }], modelVersion: 'm', usageMetadata: null as never },
    { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3 }, modelVersion: 'm' },
    { candidates: [{ content: { role: 'model', parts: [] }, finishReason: undefined, index: 0 }], modelVersion: 'm' },
    { candidates: [{ content: { role: 'model', parts: [] }, index: 0, finishReason: 'STOP' }], modelVersion: 'm' },
    { candidates: [{ content: { role: 'model', parts: [undefined as never, { text: 'b' }] }, finishReason: 'STOP', index: 0 }], modelVersion: 'm' },
    { candidates: [{ content: { role: 'model', parts: [{ text: 'a' }] }, finishReason: 'STOP', index: 0 }, { content: { role: 'model', parts: [] }, index: 1 }], modelVersion: 'm' },
  ];

  it('covers the text chunks and the last chunk of the recorded streams', () => {
    const fromTemplate = chunks.filter((chunk) => chunk.candidates[0]?.finishReason === undefined && chunk.candidates[0]?.content.parts.length === 1);
    expect(fromTemplate.length).toBeGreaterThan(10);
    expect(chunks.some((chunk) => chunk.candidates[0]?.finishReason !== undefined)).toBe(true);
  });

  it('writes every chunk exactly as JSON.stringify of the chunk would', () => {
    for (const chunk of chunks) expect(geminiChunkText(chunk)).toBe(JSON.stringify(chunk));
  });
});
