import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors/gateway-error.js';
import { mapAnthropicStopReason, translateAnthropicResponseToOpenAI } from './response.js';

const context = { model: 'sonnet', created: 1_735_689_600 };

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8'));
}

describe('translateAnthropicResponseToOpenAI', () => {
  it('translates a text response, joining text blocks', () => {
    expect(translateAnthropicResponseToOpenAI(fixture('text.json'), context)).toEqual({
      id: 'chatcmpl-01XFDUDYJgAACzvnptvVoYEL',
      object: 'chat.completion',
      created: 1_735_689_600,
      model: 'claude-sonnet-4-5-20250929',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: "Hello! I'm doing well, thank you for asking. How can I help you today?", refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 18, total_tokens: 30, prompt_tokens_details: { cached_tokens: 0 } },
    });
  });

  it('translates tool_use blocks to tool_calls, drops thinking, and counts cache tokens in the prompt', () => {
    expect(translateAnthropicResponseToOpenAI(fixture('tool-use.json'), context)).toEqual({
      id: 'chatcmpl-01Aq9w938a90dw8q',
      object: 'chat.completion',
      created: 1_735_689_600,
      model: 'claude-sonnet-4-5-20250929',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: "I'll check the current weather in both cities for you.",
            refusal: null,
            tool_calls: [
              {
                id: 'toolu_01A09q90qw90lq917835lq9',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
              },
              {
                id: 'toolu_01B7mZ2kPq4rYt8vWx3nHs6d',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' },
              },
            ],
          },
          finish_reason: 'tool_calls',
          logprobs: null,
        },
      ],
      // 384 uncached + 2048 read from cache + 120 written to cache
      usage: { prompt_tokens: 2552, completion_tokens: 161, total_tokens: 2713, prompt_tokens_details: { cached_tokens: 2048 } },
    });
  });

  it('sets content to null when there are only tool calls, and to "" when there is nothing', () => {
    const toolOnly = translateAnthropicResponseToOpenAI(
      { id: 'msg_1', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_time', input: {} }], stop_reason: 'tool_use' },
      context,
    );
    expect(toolOnly.choices[0]?.message).toEqual({
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_time', arguments: '{}' } }],
    });
    const empty = translateAnthropicResponseToOpenAI({ id: 'msg_2', content: [], stop_reason: 'end_turn' }, context);
    expect(empty.choices[0]?.message.content).toBe('');
  });

  it('gives a tool_use block without a usable input the arguments "{}", never "" or a non-object', () => {
    const response = translateAnthropicResponseToOpenAI(
      {
        id: 'msg_3',
        content: [
          { type: 'tool_use', id: 'toolu_missing', name: 'a' },
          { type: 'tool_use', id: 'toolu_empty_string', name: 'b', input: '' },
          { type: 'tool_use', id: 'toolu_null', name: 'c', input: null },
        ],
        stop_reason: 'tool_use',
      },
      context,
    );
    expect(response.choices[0]?.message.tool_calls?.map((call) => call.function.arguments)).toEqual(['{}', '{}', '{}']);
  });

  it('reads leniently: missing id, usage and stop_reason, and malformed blocks', () => {
    const response = translateAnthropicResponseToOpenAI(
      { content: [null, 'text', { type: 'text' }, { type: 'tool_use', name: 'no_id' }, { type: 'redacted_thinking', data: 'xyz' }, { type: 'text', text: 'ok' }] },
      context,
    );
    expect(response).toEqual({
      id: 'chatcmpl-anthropic-1735689600',
      object: 'chat.completion',
      created: 1_735_689_600,
      model: 'sonnet',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: null, logprobs: null }],
    });
  });

  it('keeps an id without the msg_ prefix whole, and fills missing usage numbers with 0', () => {
    const response = translateAnthropicResponseToOpenAI({ id: 'gen-42', content: [], usage: { output_tokens: 3 } }, context);
    expect(response.id).toBe('chatcmpl-gen-42');
    expect(response.usage).toEqual({ prompt_tokens: 0, completion_tokens: 3, total_tokens: 3, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it.each([null, 'Overloaded', [], { id: 'msg_1' }, { id: 'msg_1', content: 'text' }])(
    'throws GW_UPSTREAM_BAD_RESPONSE without a content array (%j)',
    (body) => {
      expect(() => translateAnthropicResponseToOpenAI(body, context)).toThrowError(GatewayError);
      try {
        translateAnthropicResponseToOpenAI(body, context);
      } catch (error) {
        expect((error as GatewayError).code).toBe('GW_UPSTREAM_BAD_RESPONSE');
        expect((error as GatewayError).status).toBe(502);
      }
    },
  );
});

describe('mapAnthropicStopReason', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['some_future_reason', 'stop'],
    ['toString', 'stop'],
    [null, null],
    [undefined, null],
  ])('%s → %s', (reason, expected) => {
    expect(mapAnthropicStopReason(reason)).toBe(expected);
  });
});
