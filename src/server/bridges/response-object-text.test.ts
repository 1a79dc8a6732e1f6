import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSseParser } from '../../formats/sse.js';
import { createOpenAIToResponsesStreamTranslator } from '../../translate/responses-to-openai/stream.js';
import { createAnthropicToResponsesStreamTranslator } from '../../translate/responses-to-anthropic/stream.js';
import { functionCallOutput, messageOutput, responsesObject, responsesUsage, type ResponsesAnswerContext } from '../../formats/responses/response-builder.js';
import type { ResponsesRequest } from '../../formats/responses/request.js';
import { createResponseObjectWriter, outputItemText } from '../../formats/responses/response-object-text.js';
import { createResponsesEventEncoder, responsesStreamEventText } from '../../formats/responses/stream-event-text.js';
import type { ResponsesStreamEvent } from '../../formats/responses/stream-writer.js';

/**
 * The templates of response-object-text.ts and the item events of stream-event-text.ts must give
 * `JSON.stringify`'s bytes: over every recorded stream with requests that echo instructions, tools,
 * tool_choice and metadata, over strings JSON must escape, and over shapes the templates must
 * leave to JSON.stringify (keys moved, a key added, a field without JSON text).
 */
const reference = (event: { type: string; [field: string]: unknown }): string => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

/** Strings JSON.stringify escapes: quotes, backslashes, controls, a lone surrogate, U+2028, markup. */
const awkward = ['', 'say "hi"\\n', 'line\nbreak\ttab\u0000\u001f', '\ud800 lone', 'sep\u2028arator', '</script><b>', 'émoji 😀', '{"partial": [1, '];

const tool = { type: 'function', name: 'get_weather', description: 'Weather "now"\n', parameters: { type: 'object', properties: { city: { type: 'string' } } } };
const requests: ResponsesRequest[] = [
  { model: 'gpt-client', input: 'hi' },
  { model: 'gpt-client', input: 'hi', instructions: awkward.join('|'), tools: [tool] as never, tool_choice: 'required', metadata: { user: 'u "1"' }, temperature: 0.25, top_p: 1, max_output_tokens: 64, parallel_tool_calls: false },
  { model: 'gpt-client', input: 'hi', instructions: null, tools: [], metadata: {}, temperature: 0, tool_choice: { type: 'function', name: 'get_weather' } as never },
];
const contextFor = (request: ResponsesRequest): ResponsesAnswerContext => ({ responseId: 'resp_test1', createdAt: 1_735_689_600, model: 'gpt-up', request });

const fixtures = (folder: string): string[] => {
  const directory = new URL(`../../translate/${folder}/__fixtures__/`, import.meta.url);
  return readdirSync(directory)
    .filter((file) => file.endsWith('.chunks.txt'))
    .map((file) => readFileSync(new URL(file, directory), 'utf8'));
};

function replay(translator: { push(event: never): ResponsesStreamEvent[]; flush(): ResponsesStreamEvent[]; abort(): ResponsesStreamEvent[] }, text: string): ResponsesStreamEvent[] {
  const parser = createSseParser();
  const events: ResponsesStreamEvent[] = [];
  try {
    for (const event of [...parser.push(text), ...parser.flush()]) events.push(...translator.push(event as never));
    events.push(...translator.flush());
  } catch {
    events.push(...translator.abort());
  }
  return events;
}

describe('Responses event templates', () => {
  it('write every recorded stream, for requests echoing instructions, tools and metadata, as JSON.stringify would', () => {
    const types = new Set<string>();
    for (const request of requests) {
      const context = contextFor(request);
      const streams = [
        ...fixtures('responses-to-openai').map((text) => replay(createOpenAIToResponsesStreamTranslator(context), text)),
        ...fixtures('responses-to-anthropic').map((text) => replay(createAnthropicToResponsesStreamTranslator(context), text)),
      ];
      for (const stream of streams) {
        const encode = createResponsesEventEncoder();
        for (const event of stream) {
          types.add(event.type);
          expect(encode(event)).toBe(reference(event));
          expect(responsesStreamEventText(event)).toBe(reference(event));
        }
      }
    }
    for (const type of ['response.output_item.added', 'response.content_part.added', 'response.output_text.done', 'response.content_part.done', 'response.function_call_arguments.done', 'response.output_item.done', 'response.completed']) {
      expect(types).toContain(type);
    }
  });

  it('write the item events with strings JSON must escape, and leave other shapes to JSON.stringify', () => {
    const events: ResponsesStreamEvent[] = awkward.flatMap((text, index): ResponsesStreamEvent[] => [
      { type: 'response.output_item.added', sequence_number: index, output_index: 0, item: { ...messageOutput(`msg_${text}`, '', 'in_progress'), content: [] } },
      { type: 'response.output_item.done', sequence_number: index, output_index: 1, item: messageOutput('msg_1', text) },
      { type: 'response.output_item.done', sequence_number: index, output_index: 2, item: functionCallOutput(`call_${text}`, text, text) },
      { type: 'response.content_part.added', sequence_number: index, item_id: text, output_index: 0, content_index: 0, part: { type: 'output_text', text, annotations: [] } },
      { type: 'response.content_part.done', sequence_number: index, item_id: 'msg_1', output_index: 0, content_index: 3, part: { type: 'output_text', text, annotations: [] } },
      { type: 'response.output_text.done', sequence_number: index, item_id: text, output_index: 0, content_index: 0, text, logprobs: [] },
      { type: 'response.function_call_arguments.done', sequence_number: index, item_id: text, output_index: 1, name: text, arguments: text },
    ]);
    const others: ResponsesStreamEvent[] = [
      // Keys moved, a key added, a field without JSON text, a value of another type.
      { type: 'response.output_item.done', output_index: 0, sequence_number: 1, item: messageOutput('msg_1', 'x') },
      { type: 'response.output_item.done', sequence_number: 1, output_index: 0, item: { ...messageOutput('msg_1', 'x'), extra: 1 } },
      { type: 'response.output_item.done', sequence_number: 1, output_index: 0, item: { type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [] } },
      { type: 'response.output_item.done', sequence_number: 1, output_index: 0, item: { ...messageOutput('msg_1', 'x'), content: [{ type: 'output_text', text: 'x', annotations: [{ url: 'u' }] }] } },
      { type: 'response.output_item.done', sequence_number: 1, output_index: 0, item: { ...messageOutput('msg_1', 'x'), content: [{ type: 'refusal', refusal: 'no' }] } },
      { type: 'response.output_item.done', sequence_number: 1, output_index: 0, item: { ...messageOutput('msg_1', 'x'), content: [{ type: 'output_text', text: 'a', annotations: [] }, { type: 'output_text', text: 'b', annotations: [] }] } },
      { type: 'response.output_item.done', sequence_number: 1, output_index: 0, item: { ...functionCallOutput('call_1', 'f', '{}'), status: undefined } },
      { type: 'response.output_item.done', sequence_number: 1, output_index: 0, item: { ...functionCallOutput('call_1', 'f', '{}'), status: 'searching' } },
      { type: 'response.output_item.done', sequence_number: 1, output_index: 0, item: { ...functionCallOutput('call_1', 'f', '{}'), arguments: undefined } },
      { type: 'response.output_item.done', sequence_number: 1, output_index: 0, item: { type: 'reasoning', id: 'rs_1', summary: [] } },
      { type: 'response.output_item.done', sequence_number: 1, output_index: 0, item: undefined },
      { type: 'response.output_item.done', sequence_number: 1.5, output_index: 0, item: messageOutput('msg_1', 'x') },
      { type: 'response.content_part.done', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, part: { text: 'x', type: 'output_text', annotations: [] } },
      { type: 'response.content_part.done', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, part: undefined },
      { type: 'response.content_part.done', sequence_number: 1, item_id: 'msg_1', content_index: 0, output_index: 0, part: { type: 'output_text', text: 'x', annotations: [] } },
      { type: 'response.output_text.done', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, text: 'x', logprobs: [{ token: 'x' }] },
      { type: 'response.output_text.done', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, text: 'x', logprobs: [], obfuscation: 'abc' },
      { type: 'response.function_call_arguments.done', sequence_number: 1, item_id: 'fc_1', output_index: 0, arguments: '{}', name: 'f' },
      { type: 'response.function_call_arguments.done', sequence_number: 1, item_id: 'fc_1', output_index: 0, name: 'f', arguments: undefined },
      { type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: -0, content_index: 0, delta: 'x', logprobs: [] },
    ];
    for (const event of [...events, ...others]) expect(responsesStreamEventText(event)).toBe(reference(event));
    expect(outputItemText(undefined)).toBe('null');
  });

  it('write response objects as JSON.stringify would, whatever changes between two objects of one stream', () => {
    const usage = responsesUsage(12, 20, 3, 1);
    const output = [messageOutput('msg_1', awkward.join('')), functionCallOutput('call_1', 'get_weather', '{"city":"Zürich"}')];
    const objects: object[] = [];
    for (const request of requests) {
      const context = contextFor(request);
      objects.push(
        responsesObject(context, { model: 'gpt-up', status: 'in_progress', output: [], usage: null }),
        responsesObject(context, { model: awkward[1] as string, status: 'completed', output, usage }),
        responsesObject(context, { model: 'gpt-up', status: 'incomplete', output, usage, incompleteReason: 'max_output_tokens' }),
        responsesObject(context, { model: 'gpt-up', status: 'failed', output: [], usage: null, error: { code: 'GW_UPSTREAM_STREAM_FAILED', message: awkward[2] as string } }),
      );
    }
    const base = responsesObject(contextFor(requests[1] as ResponsesRequest), { model: 'gpt-up', status: 'completed', output, usage });
    objects.push(
      // The echo changes within one writer: another tools array with equal content, another one with other content, a field undefined.
      { ...base, tools: [{ ...tool }] },
      { ...base, tools: [{ ...tool, name: 'other' }] },
      { ...base, metadata: Object.create(null) as object },
      { ...base, temperature: undefined },
      { ...base, usage: undefined },
      { ...base, output: [...output, undefined] },
      { ...base, created_at: Number.NaN },
      { ...base, max_output_tokens: 1e21 },
      // Keys moved or added: JSON.stringify's.
      Object.fromEntries(Object.entries(base).reverse()),
      { ...base, extra: true },
      { ...base, object: 'chat.completion' },
      base,
    );
    const write = createResponseObjectWriter();
    for (const object of objects) expect(write(object)).toBe(JSON.stringify(object));
    // A fresh writer per object gives the same.
    for (const object of objects) expect(createResponseObjectWriter()(object)).toBe(JSON.stringify(object));
  });
});
