import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AnthropicContentBlock, AnthropicMessagesRequest } from '../../formats/anthropic/messages-request.js';
import { translateAnthropicRequestToOpenAI } from './request.js';
import { thrown } from '../../../test/helpers/translator-testing.js';

const options = { upstreamModel: 'gpt-4o-mini', digestUserId: () => '0'.repeat(64) };

function fixture(name: string): AnthropicMessagesRequest {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8')) as AnthropicMessagesRequest;
}

function request(overrides: Partial<AnthropicMessagesRequest>): AnthropicMessagesRequest {
  return { model: 'sonnet', max_tokens: 256, messages: [{ role: 'user', content: 'Hi' }], ...overrides };
}

/** A block the schema passes through as an "other" block (thinking, document, …). */
const otherBlock = (fields: { type: string } & Record<string, unknown>): AnthropicContentBlock => fields;

describe('translateAnthropicRequestToOpenAI', () => {
  it('translates a Claude Code-shaped multi-turn tool conversation exactly', () => {
    expect(translateAnthropicRequestToOpenAI(fixture('request-tools-multi-turn.json'), options)).toEqual({
      model: 'gpt-4o-mini',
      max_tokens: 1024,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['END'],
      user: 'user-fixture-0001',
      stream: true,
      stream_options: { include_usage: true },
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather for a city.',
            parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
          },
        },
      ],
      tool_choice: 'auto',
      parallel_tool_calls: false,
      messages: [
        { role: 'system', content: 'You are a coding assistant.\n\nAnswer briefly.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: '<system-reminder>Project uses TypeScript.</system-reminder>' },
            { type: 'text', text: 'What is the weather in Paris and Tokyo? Also see this chart.' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoFIXTURE' } },
          ],
        },
        {
          role: 'assistant',
          content: 'Checking both cities.',
          tool_calls: [
            { id: 'toolu_fixture_paris', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France"}' } },
            { id: 'toolu_fixture_tokyo', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Tokyo, Japan"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_fixture_paris', content: '18°C, cloudy' },
        { role: 'tool', tool_call_id: 'toolu_fixture_tokyo', content: 'Error: weather service timed out' },
        { role: 'user', content: 'Retry Tokyo please.' },
      ],
    });
  });

  it('sends a minimal request with only model, messages and max_tokens (no stream fields, top_k dropped)', () => {
    expect(translateAnthropicRequestToOpenAI(request({ top_k: 5, stream: false }), options)).toEqual({
      model: 'gpt-4o-mini',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Hi' }],
    });
  });

  it('maps a string system prompt and omits an empty one', () => {
    expect(translateAnthropicRequestToOpenAI(request({ system: 'Be terse.' }), options).messages[0]).toEqual({ role: 'system', content: 'Be terse.' });
    expect(translateAnthropicRequestToOpenAI(request({ system: '' }), options).messages).toEqual([{ role: 'user', content: 'Hi' }]);
    expect(translateAnthropicRequestToOpenAI(request({ system: [] }), options).messages).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  it('joins text-only blocks into a plain string', () => {
    const body = request({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'three' }] },
      ],
    });
    expect(translateAnthropicRequestToOpenAI(body, options).messages).toEqual([
      { role: 'user', content: 'one\n\ntwo' },
      { role: 'assistant', content: 'three' },
    ]);
  });

  it('maps url image sources to image_url', () => {
    const body = request({
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } }] }],
    });
    expect(translateAnthropicRequestToOpenAI(body, options).messages).toEqual([
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] },
    ]);
  });

  it('sends content null for an assistant turn with only tool calls, and {} for an absent input', () => {
    const body = request({
      messages: [
        { role: 'user', content: 'list files' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'ls', input: undefined }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] },
      ],
    });
    expect(translateAnthropicRequestToOpenAI(body, options).messages).toEqual([
      { role: 'user', content: 'list files' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'ls', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: '' },
    ]);
  });

  it('places tool messages before the remaining user text, in order, and moves tool images to the user message', () => {
    const body = request({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'before' },
            { type: 'tool_result', tool_use_id: 'a', content: [{ type: 'text', text: 'A1' }, { type: 'text', text: 'A2' }] },
            {
              type: 'tool_result',
              tool_use_id: 'b',
              content: [{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'QUJD' } }],
            },
            { type: 'text', text: 'after' },
          ],
        },
      ],
    });
    expect(translateAnthropicRequestToOpenAI(body, options).messages).toEqual([
      { role: 'tool', tool_call_id: 'a', content: 'A1\n\nA2' },
      { role: 'tool', tool_call_id: 'b', content: '[1 image(s) from this tool result follow in the next user message]' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,QUJD' } },
          { type: 'text', text: 'before' },
          { type: 'text', text: 'after' },
        ],
      },
    ]);
  });

  it('drops thinking and redacted_thinking history, and an assistant turn left empty', () => {
    const body = request({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: [otherBlock({ type: 'redacted_thinking', data: 'opaque' }), otherBlock({ type: 'thinking', thinking: 'hmm', signature: 's' })] },
        { role: 'user', content: 'again' },
      ],
    });
    expect(translateAnthropicRequestToOpenAI(body, options).messages).toEqual([
      { role: 'user', content: 'q' },
      { role: 'user', content: 'again' },
    ]);
  });

  it.each([
    [{ type: 'auto' } as const, 'auto'],
    [{ type: 'any' } as const, 'required'],
    [{ type: 'none' } as const, 'none'],
    [{ type: 'tool', name: 'get_weather' } as const, { type: 'function', function: { name: 'get_weather' } }],
  ])('maps tool_choice %j', (choice, expected) => {
    const body = request({ tools: [{ name: 'get_weather', input_schema: { type: 'object' } }], tool_choice: choice });
    const result = translateAnthropicRequestToOpenAI(body, options);
    expect(result.tool_choice).toEqual(expected);
    expect(result.parallel_tool_calls).toBeUndefined();
  });

  it('maps disable_parallel_tool_use on any/tool choices, and treats type custom as a client tool', () => {
    const body = request({
      tools: [{ name: 'read', type: 'custom' }],
      tool_choice: { type: 'tool', name: 'read', disable_parallel_tool_use: true },
    });
    const result = translateAnthropicRequestToOpenAI(body, options);
    expect(result.tools).toEqual([{ type: 'function', function: { name: 'read', parameters: { type: 'object', properties: {} } } }]);
    expect(result.tool_choice).toEqual({ type: 'function', function: { name: 'read' } });
    expect(result.parallel_tool_calls).toBe(false);
  });

  it('omits tool_choice and parallel_tool_calls without tools (OpenAI rejects them alone)', () => {
    const result = translateAnthropicRequestToOpenAI(request({ tools: [], tool_choice: { type: 'any', disable_parallel_tool_use: true } }), options);
    expect('tools' in result).toBe(false);
    expect('tool_choice' in result).toBe(false);
    expect('parallel_tool_calls' in result).toBe(false);
  });

  it('refuses a server tool, naming it', () => {
    const error = thrown(() =>
      translateAnthropicRequestToOpenAI(request({ tools: [{ name: 'web_search', type: 'web_search_20250305' }] }), options),
    );
    expect(error.code).toBe('GW_UNSUPPORTED_CONTENT');
    expect(error.status).toBe(400);
    expect(error.message).toContain("'web_search_20250305'");
    expect(error.message).toContain("'web_search'");
  });

  it('refuses unknown block types, naming the type and where it is', () => {
    const body = request({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'read this' }, otherBlock({ type: 'document', source: { type: 'text', data: 'x' } })] }],
    });
    const error = thrown(() => translateAnthropicRequestToOpenAI(body, options));
    expect(error.code).toBe('GW_UNSUPPORTED_CONTENT');
    expect(error.message).toContain("'document'");
    expect(error.message).toContain('messages[0].content[1]');
  });

  it('refuses tool_use in a user turn, images in an assistant turn and unknown blocks inside tool results', () => {
    const cases: AnthropicMessagesRequest['messages'][] = [
      [{ role: 'user', content: [{ type: 'tool_use', id: 't', name: 'n', input: {} }] }],
      [{ role: 'assistant', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] }],
      [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'search_result' } as never] }] }],
    ];
    for (const messages of cases) expect(thrown(() => translateAnthropicRequestToOpenAI(request({ messages }), options)).code).toBe('GW_UNSUPPORTED_CONTENT');
  });

  it('rejects a block that claims a known type without its fields', () => {
    const body = request({ messages: [{ role: 'user', content: [{ type: 'text' }] }] });
    const error = thrown(() => translateAnthropicRequestToOpenAI(body, options));
    expect(error.code).toBe('GW_INVALID_REQUEST');
    expect(error.message).toContain('messages[0].content[0]');
  });

  it('ignores a null or empty metadata.user_id and an empty stop_sequences', () => {
    const result = translateAnthropicRequestToOpenAI(request({ metadata: { user_id: null }, stop_sequences: [] }), options);
    expect('user' in result).toBe(false);
    expect('stop' in result).toBe(false);
  });
});
