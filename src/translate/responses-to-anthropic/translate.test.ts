import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ResponsesAnswerContext } from '../../formats/responses/response-builder.js';
import type { ResponsesRequest } from '../../formats/responses/request.js';
import type { ResponsesStreamEvent } from '../../formats/responses/stream-writer.js';
import { createSseParser } from '../../formats/sse.js';
import { thrown } from '../../../test/helpers/translator-testing.js';
import { translateResponsesRequestToAnthropic } from './request.js';
import { translateAnthropicResponseToResponses } from './response.js';
import { createAnthropicToResponsesStreamTranslator } from './stream.js';

const fixture = (name: string): string => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const codexRequest = JSON.parse(readFileSync(new URL('../../../test/fixtures/clients/codex-request.json', import.meta.url), 'utf8')) as { body: ResponsesRequest };
const context = (): ResponsesAnswerContext => ({ responseId: 'resp_test2', createdAt: 1_735_689_600, model: 'claude-up', request: { model: 'claude-client', input: 'hi' } });
const options = { upstreamModel: 'claude-up', defaultMaxTokens: 4096 };

function replay(chunks: string): ResponsesStreamEvent[] {
  const translator = createAnthropicToResponsesStreamTranslator(context());
  const parser = createSseParser();
  return [...parser.push(chunks), ...parser.flush()].flatMap((event) => translator.push(event)).concat(translator.flush());
}

describe('translateResponsesRequestToAnthropic', () => {
  it("translates Codex CLI's recorded request (function tools): developer messages into system, max_tokens defaulted", () => {
    const tools = (codexRequest.body.tools ?? []).filter((tool) => tool.type === 'function');
    const translated = translateResponsesRequestToAnthropic({ ...codexRequest.body, tools }, options);
    expect(translated.model).toBe('claude-up');
    expect(translated.max_tokens).toBe(4096);
    expect(typeof translated.system).toBe('string');
    expect(translated.system).toContain('You are a coding agent running in the Codex CLI');
    // The two user messages (environment context, then the prompt) merge into one user turn.
    expect(translated.messages).toHaveLength(1);
    expect(translated.messages[0]?.role).toBe('user');
    expect(JSON.stringify(translated.messages[0]?.content)).toContain('say hi');
    expect(translated.tools?.map((tool) => tool.name)).toEqual(tools.map((tool) => (tool as { name: string }).name));
    expect(translated.tool_choice).toEqual({ type: 'auto' });
    expect(translated.stream).toBe(true);
  });

  it('puts tool results first in their user turn, keeps call ids, drops reasoning, maps required and parallel_tool_calls', () => {
    const translated = translateResponsesRequestToAnthropic(
      {
        model: 'm',
        input: [
          { role: 'user', content: 'Weather and time in Paris?' },
          { type: 'reasoning', summary: [], encrypted_content: 'sealed-for-openai' },
          { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { type: 'function_call', call_id: 'call_2', name: 'get_time', arguments: '' },
          { type: 'function_call_output', call_id: 'call_1', output: '18C' },
          { role: 'user', content: [{ type: 'input_text', text: 'and this' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA' }] },
          { type: 'function_call_output', call_id: 'call_2', output: '12:00' },
        ],
        max_output_tokens: 300,
        temperature: 0.5,
        user: 'user-1',
        tools: [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object' } }],
        tool_choice: 'required',
        parallel_tool_calls: false,
      },
      options,
    );
    expect(translated).toEqual({
      model: 'claude-up',
      max_tokens: 300,
      temperature: 0.5,
      metadata: { user_id: 'user-1' },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather and time in Paris?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
            { type: 'tool_result', tool_use_id: 'call_2', content: '12:00' },
            { type: 'text', text: 'and this' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          ],
        },
      ],
      tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
  });

  it('refuses what Anthropic cannot take: temperature over 1, arguments that are not an object, json_schema output, hosted tools', () => {
    expect(thrown(() => translateResponsesRequestToAnthropic({ model: 'm', input: 'hi', temperature: 1.5 }, options)).message).toMatch(/between 0 and 1/);
    expect(thrown(() => translateResponsesRequestToAnthropic({ model: 'm', input: [{ type: 'function_call', call_id: 'c1', name: 'f', arguments: '[1,2]' }] }, options)).message).toMatch(/function_call 'c1' are not a JSON object/);
    expect(thrown(() => translateResponsesRequestToAnthropic({ model: 'm', input: 'hi', text: { format: { type: 'json_schema', name: 'x', schema: {} } } }, options)).code).toBe('GW_UNSUPPORTED_CONTENT');
    expect(thrown(() => translateResponsesRequestToAnthropic({ model: 'm', input: 'hi', tools: [{ type: 'web_search' }] }, options)).message).toMatch(/^tools\[0\]: a 'web_search' tool/);
    expect(thrown(() => translateResponsesRequestToAnthropic({ model: 'm', input: [{ type: 'reasoning', summary: [] }] }, options)).code).toBe('GW_INVALID_REQUEST');
  });
});

describe('translateAnthropicResponseToResponses', () => {
  it('joins consecutive text blocks into one message item and counts cached input in input_tokens', () => {
    const response = translateAnthropicResponseToResponses(JSON.parse(fixture('text.json')), context());
    expect(response.output).toEqual([
      { id: 'msg_test2_0', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: "Hello! I'm doing well, thank you for asking. How can I help you today?", annotations: [] }] },
    ]);
    expect(response.model).toBe('claude-sonnet-4-5-20250929');
    expect(response.usage).toMatchObject({ input_tokens: 12, output_tokens: 18, total_tokens: 30 });
  });

  it('turns tool_use blocks into function_call items (ids kept, input as JSON text) and drops thinking', () => {
    const response = translateAnthropicResponseToResponses(JSON.parse(fixture('tool-use.json')), context());
    expect(response.output.map((item) => item.type)).toEqual(['message', 'function_call', 'function_call']);
    expect(response.output[1]).toMatchObject({ call_id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}', status: 'completed' });
    expect(JSON.stringify(response)).not.toContain('signature');
  });
});

describe('createAnthropicToResponsesStreamTranslator', () => {
  it('replays the recorded text stream as typed events ending in response.completed with usage', () => {
    const events = replay(fixture('text.chunks.txt'));
    expect(events.slice(0, 4).map((event) => event.type)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(events.slice(-2).map((event) => event.type)).toEqual(['response.output_item.done', 'response.completed']);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_event, index) => index));
    const completed = events.at(-1) as unknown as { response: { usage: { output_tokens: number }; output: unknown[] } };
    expect(completed.response.usage.output_tokens).toBeGreaterThan(0);
    expect(completed.response.output).toHaveLength(1);
  });

  it('streams each recorded tool_use block live as a function_call item; a call without input gets {}', () => {
    const events = replay(fixture('tool-use.chunks.txt'));
    const calls = events.filter((event) => event.type === 'response.output_item.done').map((event) => event['item'] as { type: string; arguments: string });
    expect(calls.filter((item) => item.type === 'function_call').length).toBeGreaterThanOrEqual(1);
    for (const call of calls.filter((item) => item.type === 'function_call')) expect(typeof JSON.parse(call.arguments)).toBe('object');
    const noInput = replay(fixture('tool-use-no-input.chunks.txt'));
    const item = noInput.find((event) => event.type === 'response.output_item.done' && (event['item'] as { type: string }).type === 'function_call');
    expect((item?.['item'] as { arguments: string }).arguments).toBe('{}');
  });

  it('fails on the recorded error event and on an end before message_stop', () => {
    expect(thrown(() => replay(fixture('error.chunks.txt'))).code).toBe('GW_UPSTREAM_STREAM_FAILED');
    const cut = fixture('text.chunks.txt').split('\n\n').slice(0, 4).join('\n\n') + '\n\n';
    expect(thrown(() => replay(cut)).message).toMatch(/before message_stop/);
  });
});
