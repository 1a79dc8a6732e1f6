import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fallbackMessageId, mapOpenAIFinishReason, parseToolArguments, translateOpenAIResponseToAnthropic } from './response.js';
import { thrown } from '../../../test/helpers/translator-testing.js';

const context = { model: 'sonnet' };

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8')) as unknown;
}

function completion(message: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return {
    id: 'chatcmpl-test01',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 },
    ...extra,
  };
}

describe('translateOpenAIResponseToAnthropic', () => {
  it('translates a text completion, splitting cached prompt tokens out of input_tokens', () => {
    expect(translateOpenAIResponseToAnthropic(fixture('text.json'), context)).toEqual({
      id: 'msg_BqFixtureText0001',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-mini-2024-07-18',
      content: [{ type: 'text', text: 'Hello! How can I help you today?' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 276, output_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 1024 },
    });
  });

  it('translates two parallel tool calls into two tool_use blocks with parsed input', () => {
    expect(translateOpenAIResponseToAnthropic(fixture('tool-calls.json'), context)).toEqual({
      id: 'msg_BqFixtureTools0002',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-mini-2024-07-18',
      content: [
        { type: 'tool_use', id: 'call_FixtureWeatherParis01', name: 'get_weather', input: { location: 'Paris, France', unit: 'celsius' } },
        { type: 'tool_use', id: 'call_FixtureWeatherTokyo02', name: 'get_weather', input: { location: 'Tokyo, Japan', unit: 'celsius' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 82, output_tokens: 51, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  });

  it('keeps text before tool calls and omits empty text', () => {
    const withText = completion({
      content: 'Let me check.',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'ls', arguments: '' } }],
    });
    expect(translateOpenAIResponseToAnthropic(withText, context).content).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'call_1', name: 'ls', input: {} },
    ]);
    expect(translateOpenAIResponseToAnthropic(completion({ content: '' }), context).content).toEqual([]);
  });

  it('says tool_use when a server finishes tool calls with finish_reason stop', () => {
    const body = completion({ content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'ls', arguments: '{}' } }] });
    expect(translateOpenAIResponseToAnthropic(body, context).stop_reason).toBe('tool_use');
  });

  it('wraps invalid or non-object tool arguments in {_raw}', () => {
    const body = completion({ tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'ls', arguments: '{"path": "/tm' } }] });
    expect(translateOpenAIResponseToAnthropic(body, context).content).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'ls', input: { _raw: '{"path": "/tm' } },
    ]);
    expect(parseToolArguments('[1,2]')).toEqual({ _raw: '[1,2]' });
    expect(parseToolArguments('  ')).toEqual({});
  });

  it('reads leniently: array content, refusal text, legacy function_call, missing id/usage/finish_reason', () => {
    const body = {
      choices: [
        {
          message: {
            content: [{ type: 'text', text: 'part one, ' }, { type: 'text', text: 'part two' }],
            function_call: { name: 'lookup', arguments: '{"q":"x"}' },
          },
        },
      ],
    };
    expect(translateOpenAIResponseToAnthropic(body, { model: 'm', messageId: 'msg_injected' })).toEqual({
      id: 'msg_injected',
      type: 'message',
      role: 'assistant',
      model: 'm',
      content: [
        { type: 'text', text: 'part one, part two' },
        { type: 'tool_use', id: 'toolu_upstream_0', name: 'lookup', input: { q: 'x' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      // No upstream usage: input unknown (0); output ≈ ceil(bytes/4) of "part one, part two" + {"q":"x"} = ceil(27/4).
      usage: { input_tokens: 0, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
    const refused = { choices: [{ message: { content: null, refusal: 'I cannot help with that.' }, finish_reason: 'stop' }] };
    const translated = translateOpenAIResponseToAnthropic(refused, context);
    expect(translated.content).toEqual([{ type: 'text', text: 'I cannot help with that.' }]);
    expect(translated.id).toBe(fallbackMessageId);
  });

  it('keeps an id without the chatcmpl- prefix as it is', () => {
    expect(translateOpenAIResponseToAnthropic(completion({ content: 'x' }, { id: 'gen-42' }), context).id).toBe('msg_gen-42');
  });

  it.each([null, 'not json', {}, { choices: [] }, { choices: [{ delta: {} }] }, { choices: [{ message: 'text' }] }])(
    'throws GW_UPSTREAM_BAD_RESPONSE without choices[0].message: %j',
    (body) => {
      const error = thrown(() => translateOpenAIResponseToAnthropic(body, context));
      expect(error.code).toBe('GW_UPSTREAM_BAD_RESPONSE');
      expect(error.status).toBe(502);
    },
  );

  it('maps finish_length to max_tokens and content_filter to refusal', () => {
    const body = (reason: string) => ({ choices: [{ message: { content: 'x' }, finish_reason: reason }] });
    expect(translateOpenAIResponseToAnthropic(body('length'), context).stop_reason).toBe('max_tokens');
    expect(translateOpenAIResponseToAnthropic(body('content_filter'), context).stop_reason).toBe('refusal');
  });
});

describe('mapOpenAIFinishReason', () => {
  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['function_call', 'tool_use'],
    ['content_filter', 'refusal'],
    ['eos', 'end_turn'],
    ['toString', 'end_turn'],
    [null, null],
    [undefined, null],
  ] as const)('%s → %s', (reason, expected) => {
    expect(mapOpenAIFinishReason(reason)).toBe(expected);
  });
});
