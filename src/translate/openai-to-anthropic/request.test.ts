import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { AnthropicMessagesRequest } from '../../formats/anthropic/messages-request.js';
import { OpenAIChatRequest } from '../../formats/openai/chat-request.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { translateOpenAIRequestToAnthropic } from './request.js';

const options = { upstreamModel: 'claude-sonnet-4-5-20250929', defaultMaxTokens: 1024 };

/** Builds a request and checks it against the inward schema, as the server would before translating. */
function openaiRequest(fields: Record<string, unknown>): OpenAIChatRequest {
  const request = { model: 'sonnet', messages: [{ role: 'user', content: 'Hi' }], ...fields };
  if (!Value.Check(OpenAIChatRequest, request)) throw new Error('test request does not match the OpenAI schema');
  return request;
}

function translate(fields: Record<string, unknown>): AnthropicMessagesRequest {
  const translated = translateOpenAIRequestToAnthropic(openaiRequest(fields), options);
  expect(Value.Check(AnthropicMessagesRequest, translated)).toBe(true);
  return translated;
}

function translationError(fields: Record<string, unknown>): GatewayError {
  try {
    translateOpenAIRequestToAnthropic(openaiRequest(fields), options);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected the translation to throw');
}

describe('translateOpenAIRequestToAnthropic', () => {
  it('translates a multi-turn tool conversation fixture', () => {
    const fixture: unknown = JSON.parse(readFileSync(new URL('./__fixtures__/request-tools-multi-turn.json', import.meta.url), 'utf8'));
    expect(Value.Check(OpenAIChatRequest, fixture)).toBe(true);
    const translated = translateOpenAIRequestToAnthropic(fixture as OpenAIChatRequest, options);
    expect(Value.Check(AnthropicMessagesRequest, translated)).toBe(true);
    expect(translated).toEqual({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 512,
      stream: true,
      system: [
        { type: 'text', text: 'You are a weather assistant.' },
        { type: 'text', text: 'Answer in one sentence.' },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: "What's the weather in San Francisco and Paris? Here is a map:" },
            {
              type: 'image',
              source: {
                type: 'base64',
                media_type: 'image/png',
                data: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAHnOcQAAAAABJRU5ErkJggg==',
              },
            },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me look that up.' },
            { type: 'tool_use', id: 'call_sf_0001', name: 'get_weather', input: { location: 'San Francisco, CA' } },
            { type: 'tool_use', id: 'call_paris_0002', name: 'get_weather', input: { location: 'Paris, France' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_sf_0001', content: '15 degrees, fog' },
            { type: 'tool_result', tool_use_id: 'call_paris_0002', content: [{ type: 'text', text: '22 degrees, sunny' }] },
            { type: 'text', text: 'Which one is warmer?' },
          ],
        },
      ],
      tools: [
        {
          name: 'get_weather',
          description: 'Current weather for a location',
          input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
        },
        { name: 'get_time', input_schema: { type: 'object', properties: {} } },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      temperature: 0.4,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'user-hash-0001' },
    });
  });

  it('uses the upstream model and the default max_tokens, and leaves unset options out', () => {
    expect(translate({})).toEqual({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 1024,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    });
  });

  it('takes max_tokens, and prefers max_completion_tokens when both are sent', () => {
    expect(translate({ max_tokens: 300 }).max_tokens).toBe(300);
    expect(translate({ max_tokens: 300, max_completion_tokens: 200 }).max_tokens).toBe(200);
    expect(translate({ max_tokens: null }).max_tokens).toBe(1024);
  });

  it('hoists system and developer messages from anywhere, in order, and merges same-role turns', () => {
    const translated = translate({
      messages: [
        { role: 'system', content: 'First rule.' },
        { role: 'user', content: 'One' },
        { role: 'user', content: [{ type: 'text', text: 'Two' }] },
        { role: 'developer', content: 'Second rule.' },
        { role: 'assistant', content: 'Reply' },
        { role: 'assistant', content: null, tool_calls: [] },
        { role: 'assistant', content: 'More' },
        { role: 'user', content: 'Three' },
      ],
    });
    expect(translated.system).toEqual([
      { type: 'text', text: 'First rule.' },
      { type: 'text', text: 'Second rule.' },
    ]);
    expect(translated.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'One' }, { type: 'text', text: 'Two' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Reply' }, { type: 'text', text: 'More' }] },
      { role: 'user', content: [{ type: 'text', text: 'Three' }] },
    ]);
  });

  it('drops empty text (Anthropic rejects empty text blocks) and refuses a request left with no turn', () => {
    const translated = translate({
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'Again' },
      ],
    });
    expect(translated.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'Again' }] }]);
    const error = translationError({ messages: [{ role: 'system', content: 'Only a system prompt.' }] });
    expect(error.code).toBe('GW_INVALID_REQUEST');
    expect(error.message).toContain('at least one user, assistant or tool message');
  });

  it('maps data: images to base64 sources and http(s) images to url sources', () => {
    const translated = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:image/JPEG;base64,/9j/4AAQSkZJRg==' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'high' } },
            { type: 'image_url', image_url: { url: 'http://example.com/dog.webp' } },
          ],
        },
      ],
    });
    expect(translated.messages[0]?.content).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
      { type: 'image', source: { type: 'url', url: 'http://example.com/dog.webp' } },
    ]);
  });

  it.each([
    ['data:image/svg+xml,<svg/>', 'only base64 image data URLs'],
    ['data:text/plain;base64,aGVsbG8=', 'only base64 image data URLs'],
    ['file:///etc/passwd', 'must be https://, http:// or base64 data: URLs'],
  ])('refuses the image URL %s', (url, expected) => {
    const error = translationError({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] });
    expect(error.code).toBe('GW_UNSUPPORTED_CONTENT');
    expect(error.message).toContain(expected);
    expect(error.message).toContain('messages[0].content[0]');
  });

  it('refuses unknown content part types, naming the type', () => {
    const error = translationError({
      messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }],
    });
    expect(error.code).toBe('GW_UNSUPPORTED_CONTENT');
    expect(error.message).toBe(
      "messages[0].content[0]: content part type 'input_audio' is not supported in user messages when the upstream is Anthropic.",
    );
    expect(translationError({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] }).code).toBe(
      'GW_UNSUPPORTED_CONTENT',
    );
    expect(translationError({ messages: [{ role: 'assistant', content: [{ type: 'file', file: {} }] }] }).message).toContain("'file'");
  });

  it('keeps an assistant refusal part as text', () => {
    const translated = translate({
      messages: [
        { role: 'user', content: 'Do the bad thing' },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot help with that.' }] },
        { role: 'user', content: 'OK' },
      ],
    });
    expect(translated.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'I cannot help with that.' }] });
  });

  it('parses tool call arguments, treating an empty string as no arguments', () => {
    const translated = translate({
      messages: [
        { role: 'user', content: 'Time?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_time', arguments: '' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '' },
      ],
    });
    expect(translated.messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_time', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1' }] },
    ]);
  });

  it.each([
    ['{"location": "Paris"', 'messages[1].tool_calls[0].function.arguments is not valid JSON'],
    ['[1, 2]', 'messages[1].tool_calls[0].function.arguments must encode a JSON object'],
    ['"Paris"', 'must encode a JSON object'],
  ])('refuses tool call arguments %s', (argumentsText, expected) => {
    const error = translationError({
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: argumentsText } }] },
      ],
    });
    expect(error.code).toBe('GW_INVALID_REQUEST');
    expect(error.status).toBe(400);
    expect(error.message).toContain(expected);
  });

  const weatherTool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } };

  it.each([
    ['auto', { type: 'auto' }],
    ['required', { type: 'any' }],
    ['none', { type: 'none' }],
    [{ type: 'function', function: { name: 'get_weather' } }, { type: 'tool', name: 'get_weather' }],
  ])('maps tool_choice %j', (toolChoice, expected) => {
    expect(translate({ tools: [weatherTool], tool_choice: toolChoice }).tool_choice).toEqual(expected);
  });

  it('maps parallel_tool_calls: false to disable_parallel_tool_use (not on none)', () => {
    expect(translate({ tools: [weatherTool], parallel_tool_calls: false }).tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(
      translate({ tools: [weatherTool], parallel_tool_calls: false, tool_choice: { type: 'function', function: { name: 'get_weather' } } }).tool_choice,
    ).toEqual({ type: 'tool', name: 'get_weather', disable_parallel_tool_use: true });
    expect(translate({ tools: [weatherTool], parallel_tool_calls: false, tool_choice: 'none' }).tool_choice).toEqual({ type: 'none' });
    expect(translate({ tools: [weatherTool], parallel_tool_calls: true }).tool_choice).toBeUndefined();
  });

  it('refuses a forcing tool_choice without tools', () => {
    expect(translationError({ tool_choice: 'required' }).message).toBe('tool_choice requires at least one tool in tools.');
    expect(translate({ tool_choice: 'auto' }).tool_choice).toBeUndefined();
  });

  it('maps stop strings and arrays to stop_sequences', () => {
    expect(translate({ stop: 'END' }).stop_sequences).toEqual(['END']);
    expect(translate({ stop: ['END', '\n\nHuman:'] }).stop_sequences).toEqual(['END', '\n\nHuman:']);
    expect(translate({ stop: null }).stop_sequences).toBeUndefined();
  });

  it('passes temperature 0..1 and top_p through, and refuses temperature above 1 instead of clamping', () => {
    expect(translate({ temperature: 0, top_p: 1 })).toMatchObject({ temperature: 0, top_p: 1 });
    expect(translate({ temperature: 1 }).temperature).toBe(1);
    const error = translationError({ temperature: 1.5 });
    expect(error.code).toBe('GW_INVALID_REQUEST');
    expect(error.message).toBe('temperature must be between 0 and 1 for this model (its upstream is Anthropic, whose range is 0..1); got 1.5.');
  });

  it('sends stream only when true, and maps user to metadata.user_id', () => {
    expect(translate({ stream: false }).stream).toBeUndefined();
    expect(translate({ stream: true }).stream).toBe(true);
    expect(translate({ user: 'user-hash-0002' }).metadata).toEqual({ user_id: 'user-hash-0002' });
  });

  it('refuses n > 1, logprobs and structured response formats it cannot honour', () => {
    expect(translate({ n: 1 }).messages).toHaveLength(1);
    const manyChoices = translationError({ n: 2 });
    expect(manyChoices.code).toBe('GW_UNSUPPORTED_CONTENT');
    expect(manyChoices.message).toContain('n=2');
    expect(translationError({ logprobs: true }).code).toBe('GW_UNSUPPORTED_CONTENT');
    expect(translationError({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }).message).toContain(
      "response_format type 'json_schema'",
    );
    expect(translate({ response_format: { type: 'text' }, seed: 7, presence_penalty: 0.5 }).messages).toHaveLength(1);
  });
});
