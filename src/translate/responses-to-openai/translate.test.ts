import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ResponsesAnswerContext } from '../../formats/responses/response-builder.js';
import type { ResponsesRequest } from '../../formats/responses/request.js';
import type { ResponsesStreamEvent } from '../../formats/responses/stream-writer.js';
import { createSseParser } from '../../formats/sse.js';
import { thrown } from '../../../test/helpers/translator-testing.js';
import { translateResponsesRequestToOpenAI } from './request.js';
import { translateOpenAIResponseToResponses } from './response.js';
import { createOpenAIToResponsesStreamTranslator } from './stream.js';

const fixture = (name: string): string => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const codexRequest = JSON.parse(readFileSync(new URL('../../../test/fixtures/clients/codex-request.json', import.meta.url), 'utf8')) as { body: ResponsesRequest };
const context = (request: Partial<ResponsesRequest> = {}): ResponsesAnswerContext => ({
  responseId: 'resp_test1',
  createdAt: 1_735_689_600,
  model: 'gpt-up',
  request: { model: 'gpt-client', input: 'hi', ...request },
});
const options = { upstreamModel: 'gpt-up' };

function replay(chunks: string, request: Partial<ResponsesRequest> = {}): ResponsesStreamEvent[] {
  const translator = createOpenAIToResponsesStreamTranslator(context(request));
  const parser = createSseParser();
  return [...parser.push(chunks), ...parser.flush()].flatMap((event) => translator.push(event)).concat(translator.flush());
}

describe('translateResponsesRequestToOpenAI', () => {
  it("translates Codex CLI's recorded request once its hosted and namespace tools are off", () => {
    const tools = (codexRequest.body.tools ?? []).filter((tool) => tool.type === 'function');
    const translated = translateResponsesRequestToOpenAI({ ...codexRequest.body, tools }, options);
    expect(translated.model).toBe('gpt-up');
    expect(translated.messages.map((message) => message.role)).toEqual(['system', 'system', 'user', 'user']);
    expect(translated.messages[3]).toEqual({ role: 'user', content: 'say hi' });
    expect(translated.tools?.map((tool) => tool.function.name)).toEqual(tools.map((tool) => (tool as { name: string }).name));
    expect(translated.tool_choice).toBe('auto');
    expect(translated.parallel_tool_calls).toBe(true);
    expect(translated.stream_options).toEqual({ include_usage: true });
    // Fields only the Responses API knows stay behind.
    for (const field of ['store', 'include', 'reasoning', 'prompt_cache_key', 'client_metadata', 'input', 'instructions']) expect(translated).not.toHaveProperty(field);
  });

  it('refuses the recorded request as sent, naming the first tool it cannot translate', () => {
    const error = thrown(() => translateResponsesRequestToOpenAI(codexRequest.body, options));
    expect(error.code).toBe('GW_UNSUPPORTED_CONTENT');
    expect(error.message).toMatch(/^tools\[\d+\]: a 'namespace' tool cannot be translated/);
  });

  it('turns calls and their outputs into one assistant message with tool_calls and tool messages; drops reasoning', () => {
    const translated = translateResponsesRequestToOpenAI(
      {
        model: 'm',
        instructions: 'Be terse.',
        input: [
          { role: 'developer', content: 'Use tools.' },
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Look at ' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA' }] },
          { type: 'reasoning', summary: [{ type: 'summary_text', text: 'thinking' }], encrypted_content: 'sealed-for-openai' },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
          { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { type: 'function_call', call_id: 'call_2', name: 'get_time', arguments: '' },
          { type: 'function_call_output', call_id: 'call_1', output: '18C' },
          { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: '12:00' }] },
        ],
        max_output_tokens: 64,
        tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }],
        tool_choice: { type: 'function', name: 'get_weather' },
        text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true } },
      },
      options,
    );
    expect(translated).toEqual({
      model: 'gpt-up',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'system', content: 'Use tools.' },
        { role: 'user', content: [{ type: 'text', text: 'Look at ' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: '12:00' },
      ],
      max_tokens: 64,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
    });
    expect(JSON.stringify(translated)).not.toContain('sealed-for-openai');
  });

  it('refuses what it cannot translate, by name: previous_response_id, other item types, file images, hosted tool choices', () => {
    expect(thrown(() => translateResponsesRequestToOpenAI({ model: 'm', input: 'hi', previous_response_id: 'resp_1' }, options)).message).toMatch(/stores no responses/);
    expect(thrown(() => translateResponsesRequestToOpenAI({ model: 'm', input: [{ type: 'local_shell_call', id: 'x' } as { type: string }] }, options)).message).toMatch(/^input\[0\]: an item of type 'local_shell_call'/);
    expect(thrown(() => translateResponsesRequestToOpenAI({ model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' } as { type: 'input_image' }] }] }, options)).code).toBe('GW_UNSUPPORTED_CONTENT');
    expect(thrown(() => translateResponsesRequestToOpenAI({ model: 'm', input: 'hi', tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'web_search_preview' } }, options)).message).toMatch(/tool_choice of type 'web_search_preview'/);
    // A call id no upstream would accept is a 400 naming it, never cut.
    const longId = 'c'.repeat(300);
    expect(thrown(() => translateResponsesRequestToOpenAI({ model: 'm', input: [{ type: 'function_call_output', call_id: longId, output: 'x' }] }, options)).message).toMatch(/input\[0\]\.call_id/);
  });
});

describe('translateOpenAIResponseToResponses', () => {
  it('turns the recorded text answer into one message item with usage (cached tokens kept)', () => {
    const response = translateOpenAIResponseToResponses(JSON.parse(fixture('text.json')), context());
    expect(response).toMatchObject({ id: 'resp_test1', object: 'response', status: 'completed', model: 'gpt-4o-mini-2024-07-18', store: false });
    expect(response.output).toEqual([{ id: 'msg_test1_0', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello! How can I help you today?', annotations: [] }] }]);
    expect(response.usage).toEqual({ input_tokens: 1300, input_tokens_details: { cached_tokens: 1024 }, output_tokens: 9, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 1309 });
  });

  it('turns the recorded tool calls into function_call items with the upstream ids as call_id', () => {
    const response = translateOpenAIResponseToResponses(JSON.parse(fixture('tool-calls.json')), context());
    expect(response.output.map((item) => (item.type === 'function_call' ? [item.call_id, item.name, JSON.parse(item.arguments)] : item.type))).toEqual([
      ['call_FixtureWeatherParis01', 'get_weather', { location: 'Paris, France', unit: 'celsius' }],
      ['call_FixtureWeatherTokyo02', 'get_weather', { location: 'Tokyo, Japan', unit: 'celsius' }],
    ]);
  });

  it('reports a length stop as incomplete (max_output_tokens) and refuses a body without choices', () => {
    const body = { ...JSON.parse(fixture('text.json')), choices: [{ index: 0, message: { content: 'cut' }, finish_reason: 'length' }] };
    expect(translateOpenAIResponseToResponses(body, context())).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(thrown(() => translateOpenAIResponseToResponses({ error: 'no' }, context())).code).toBe('GW_UPSTREAM_BAD_RESPONSE');
  });
});

describe('createOpenAIToResponsesStreamTranslator', () => {
  it('replays the recorded text stream as the typed event sequence, numbered from 0, ending in response.completed', () => {
    const events = replay(fixture('text.chunks.txt'));
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...events.filter((event) => event.type === 'response.output_text.delta').map(() => 'response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_event, index) => index));
    const text = events.filter((event) => event.type === 'response.output_text.delta').map((event) => event.delta).join('');
    expect(text).toBe('Hello! How can I help you today? Ünïcödé ✓');
    expect(events.find((event) => event.type === 'response.output_text.done')).toMatchObject({ text });
    expect(events.at(-1)).toMatchObject({ response: { status: 'completed', model: 'gpt-4o-mini-2024-07-18', output: [{ type: 'message', content: [{ text }] }] } });
  });

  it('replays recorded tool calls (sequential and interleaved by index) as whole function_call items in index order', () => {
    for (const name of ['tool-calls.chunks.txt', 'tool-calls-interleaved.chunks.txt']) {
      const events = replay(fixture(name));
      const done = events
        .filter((event) => event.type === 'response.output_item.done')
        .map((event) => event['item'] as { type: string; name: string; arguments: string; call_id: string })
        .filter((item) => item.type === 'function_call');
      expect(done.length).toBeGreaterThanOrEqual(2);
      for (const item of done) expect(typeof JSON.parse(item.arguments)).toBe('object');
      // Calls follow the text: every item is closed before the next one opens.
      const added = events.filter((event) => event.type === 'response.output_item.added' || event.type === 'response.output_item.done').map((event) => event.type);
      expect(added).toEqual(added.map((_type, index) => (index % 2 === 0 ? 'response.output_item.added' : 'response.output_item.done')));
      const deltas = events.filter((event) => event.type === 'response.function_call_arguments.delta').map((event) => event['delta']).join('');
      expect(deltas).toBe(done.map((item) => item.arguments).join(''));
      expect(events.at(-1)?.type).toBe('response.completed');
    }
  });

  it('fails on the recorded mid-stream error; the writer then ends the stream with response.failed', () => {
    const translator = createOpenAIToResponsesStreamTranslator(context());
    const parser = createSseParser();
    const events: ResponsesStreamEvent[] = [];
    const error = thrown(() => {
      for (const event of [...parser.push(fixture('error.chunks.txt')), ...parser.flush()]) events.push(...translator.push(event));
    });
    expect(error.code).toBe('GW_UPSTREAM_STREAM_FAILED');
    const failed = translator.writer.fail('GW_UPSTREAM_STREAM_FAILED', error.message);
    expect(failed).toEqual([expect.objectContaining({ type: 'response.failed', sequence_number: events.length, response: expect.objectContaining({ status: 'failed', error: { code: 'GW_UPSTREAM_STREAM_FAILED', message: error.message } }) })]);
  });

  it('fails a stream that ends before its finish_reason', () => {
    const cut = fixture('text.chunks.txt').split('\n\n').slice(0, 3).join('\n\n') + '\n\n';
    expect(thrown(() => replay(cut)).code).toBe('GW_UPSTREAM_STREAM_FAILED');
  });
});
