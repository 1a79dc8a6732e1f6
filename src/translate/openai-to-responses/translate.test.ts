import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { OpenAIChatRequest } from '../../formats/openai/chat-request.js';
import { createSseParser } from '../../formats/sse.js';
import { thrown } from '../../../test/helpers/translator-testing.js';
import { translateOpenAIRequestToResponses } from './request.js';
import { translateResponsesResponseToOpenAI } from './response.js';
import { createResponsesToOpenAIStreamTranslator } from './stream.js';

const fixture = (name: string): string => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const context = { model: 'gpt-up', created: 1_764_720_000 };

function replay(chunks: string, includeUsage = true): Record<string, unknown>[] {
  const translator = createResponsesToOpenAIStreamTranslator({ ...context, includeUsage });
  const parser = createSseParser();
  return [...parser.push(chunks), ...parser.flush()].flatMap((event) => translator.push(event)).concat(translator.flush());
}

type ChunkView = { choices: { delta: { content?: string; role?: string; tool_calls?: { index: number; id?: string; function: { name?: string; arguments?: string } }[] }; finish_reason: string | null }[]; usage?: Record<string, unknown> };

describe('translateOpenAIRequestToResponses', () => {
  it('moves leading system messages to instructions, tool calls to function_call items, tool messages to outputs; always streams, never stores', () => {
    const request: OpenAIChatRequest = {
      model: 'client-model',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use tools.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Weather here?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'system', content: 'Answer in French.' },
      ],
      max_tokens: 99,
      temperature: 0.3,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
    } as OpenAIChatRequest;
    expect(translateOpenAIRequestToResponses(request, { upstreamModel: 'gpt-up' })).toEqual({
      model: 'gpt-up',
      instructions: 'Be terse.\n\nUse tools.',
      input: [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Weather here?' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'auto' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '18C' },
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Answer in French.' }] },
      ],
      stream: true,
      store: false,
      max_output_tokens: 99,
      temperature: 0.3,
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: false }],
      tool_choice: { type: 'function', name: 'get_weather' },
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true } },
    });
  });

  it('refuses what the Responses API has no counterpart for: n > 1, stop, logprobs', () => {
    const base: OpenAIChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    expect(thrown(() => translateOpenAIRequestToResponses({ ...base, n: 2 }, { upstreamModel: 'x' })).code).toBe('GW_UNSUPPORTED_CONTENT');
    expect(thrown(() => translateOpenAIRequestToResponses({ ...base, stop: ['END'] }, { upstreamModel: 'x' })).message).toMatch(/no stop sequences/);
    expect(thrown(() => translateOpenAIRequestToResponses({ ...base, logprobs: true } as OpenAIChatRequest, { upstreamModel: 'x' })).code).toBe('GW_UNSUPPORTED_CONTENT');
  });
});

describe('translateResponsesResponseToOpenAI', () => {
  it('turns the text fixture into a chat completion with usage details; the reasoning item stays behind', () => {
    const completion = translateResponsesResponseToOpenAI(JSON.parse(fixture('responses-text.json')), context);
    expect(completion).toMatchObject({
      id: 'chatcmpl-68fixturetext',
      object: 'chat.completion',
      model: 'gpt-5-codex-2025-09-15',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the Codex stub.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1300, completion_tokens: 40, total_tokens: 1340, prompt_tokens_details: { cached_tokens: 1024 }, completion_tokens_details: { reasoning_tokens: 28 } },
    });
    expect(JSON.stringify(completion)).not.toContain('sealed-reasoning');
  });

  it('turns the tool-call fixture into tool_calls with the call_id, finish_reason tool_calls', () => {
    const completion = translateResponsesResponseToOpenAI(JSON.parse(fixture('responses-tool-call.json')), context) as { choices: { message: Record<string, unknown>; finish_reason: string }[] };
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]?.message).toMatchObject({ content: null, tool_calls: [{ id: 'call_FixtureCodexWeather01', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' } }] });
  });

  it('reports a failed or output-less response as an upstream error', () => {
    expect(thrown(() => translateResponsesResponseToOpenAI({ status: 'failed', output: [], error: { message: 'boom' } }, context)).message).toBe('boom');
    expect(thrown(() => translateResponsesResponseToOpenAI({ status: 'completed' }, context)).code).toBe('GW_UPSTREAM_BAD_RESPONSE');
  });
});

describe('createResponsesToOpenAIStreamTranslator', () => {
  it('replays the text stream: a role chunk, the deltas, the finish chunk, the usage chunk', () => {
    const chunks = replay(fixture('responses-text.chunks.txt')) as ChunkView[];
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Hello from the Codex stub.');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 1300, completion_tokens: 40 } });
    expect(replay(fixture('responses-text.chunks.txt'), false).some((chunk) => 'usage' in chunk)).toBe(false);
  });

  it('replays the tool-call stream: id and name first, argument deltas that reassemble, finish_reason tool_calls', () => {
    const chunks = replay(fixture('responses-tool-call.chunks.txt')) as ChunkView[];
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, id: 'call_FixtureCodexWeather01', function: { name: 'get_weather', arguments: '' } });
    expect(JSON.parse(calls.map((call) => call.function.arguments ?? '').join(''))).toEqual({ location: 'Paris, France', unit: 'celsius' });
    expect(chunks.find((chunk) => chunk.choices[0]?.finish_reason !== null && chunk.choices.length > 0)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('sends arguments that only arrive with output_item.done, and {} for a call without any', () => {
    const events = [
      { type: 'response.created', response: { id: 'resp_1', model: 'm' } },
      { type: 'response.output_item.added', item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'a', arguments: '' } },
      { type: 'response.output_item.done', item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'a', arguments: '{"x":1}' } },
      { type: 'response.output_item.added', item: { id: 'fc_2', type: 'function_call', call_id: 'call_2', name: 'b', arguments: '' } },
      { type: 'response.output_item.done', item: { id: 'fc_2', type: 'function_call', call_id: 'call_2', name: 'b', arguments: '' } },
      { type: 'response.completed', response: { id: 'resp_1', output: [] } },
    ];
    const chunks = replay(events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join('')) as ChunkView[];
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(calls.filter((call) => call.index === 0).map((call) => call.function.arguments).join('')).toBe('{"x":1}');
    expect(calls.filter((call) => call.index === 1).map((call) => call.function.arguments).join('')).toBe('{}');
  });

  it('fails on response.failed and on an end before response.completed', () => {
    expect(thrown(() => replay(fixture('responses-failed.chunks.txt'))).message).toBe('An error occurred while processing your request.');
    const cut = fixture('responses-text.chunks.txt').split('\n\n').slice(0, 5).join('\n\n') + '\n\n';
    expect(thrown(() => replay(cut)).message).toMatch(/before response\.completed/);
  });

  it('passes over the events it ignores without parsing them, garbled or naming another type later; reads every other event in full', () => {
    const sse = (type: string, data: string): string => `event: ${type}\ndata: ${data}\n\n`;
    const created = sse('response.created', '{"type":"response.created","response":{"id":"resp_1","model":"m"}}');
    const completed = sse('response.completed', '{"type":"response.completed","response":{"id":"resp_1","output":[]}}');
    const passedOver = [
      sse('response.in_progress', '{"type":"response.in_progress",garbled'),
      sse('response.output_text.done', '{"type":"response.output_text.done","text":"x","type":"response.completed"}'),
      sse('response.content_part.added', '{"type":"response.content_part.added","part":{"type":"output_text","text":"not sent"}}'),
      sse('response.output_item.added', '{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_1","type":"message",garbled'),
    ].join('');
    const chunks = replay(created + passedOver + completed) as ChunkView[];
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    // The duplicate `type` did not end the stream: without the real response.completed it fails.
    expect(thrown(() => replay(created + passedOver)).message).toMatch(/before response\.completed/);
    // An event it reads is still parsed: garbled, it fails the stream.
    expect(thrown(() => replay(created + sse('response.output_item.added', '{"type":"response.output_item.added",garbled') + completed)).message).toMatch(/not JSON/);
  });
});
