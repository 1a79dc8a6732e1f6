import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AnthropicMessagesRequest } from '../../formats/anthropic/messages-request.js';
import type { AnthropicStreamEvent } from '../../formats/anthropic/messages-response.js';
import { createGeminiStreamParser } from '../../formats/gemini/stream-parser.js';
import { signatureFromCallId } from '../../formats/gemini/upstream-answer.js';
import { oddPieces, thrown } from '../../../test/helpers/translator-testing.js';
import { translateAnthropicRequestToGemini } from './request.js';
import { translateGeminiResponseToAnthropic } from './response.js';
import { createGeminiToAnthropicStreamTranslator } from './stream.js';

const fixture = (name: string): string => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const context = { model: 'gemini-test', requestId: 'req-1' };

function translateStream(text: string, pieceSizes: number[]): AnthropicStreamEvent[] {
  const parser = createGeminiStreamParser();
  const translator = createGeminiToAnthropicStreamTranslator(context);
  const events: AnthropicStreamEvent[] = [];
  for (const piece of oddPieces(text, pieceSizes)) for (const event of parser.push(piece)) events.push(...translator.push(event));
  for (const event of parser.flush()) events.push(...translator.push(event));
  events.push(...translator.flush());
  return events;
}

describe('translateAnthropicRequestToGemini', () => {
  it('translates a Claude Code-shaped request: system messages joined, thinking never replayed, the signature back on its call', () => {
    const request = JSON.parse(fixture('request-claude-code-tools.json')) as AnthropicMessagesRequest;
    const translated = translateAnthropicRequestToGemini(request);
    expect(translated).toEqual({
      systemInstruction: { parts: [{ text: 'You are Claude Code.\n\n<env>Working directory: /tmp/project</env>' }] },
      contents: [
        { role: 'user', parts: [{ text: 'List the files.' }] },
        { role: 'model', parts: [{ functionCall: { name: 'Bash', args: { command: 'ls' } }, thoughtSignature: 'fixture-thought-signature-0001' }] },
        { role: 'user', parts: [{ functionResponse: { name: 'Bash', response: { result: 'README.md\nsrc' } } }, { text: 'Now read the README.' }] },
      ],
      generationConfig: { maxOutputTokens: 32000, thinkingConfig: { thinkingBudget: -1, includeThoughts: true } },
      tools: [{ functionDeclarations: [{ name: 'Bash', description: 'Runs a shell command', parameters: { type: 'OBJECT', properties: { command: { type: 'STRING' }, timeout: { type: 'NUMBER', minimum: 0 } }, required: ['command'] } }] }],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
    });
    expect(JSON.stringify(translated)).not.toContain('anthropic-signature-never-sent-to-gemini');
  });

  it.each([
    ['a tool_result answering no tool_use', { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'x' }] }, 'GW_INVALID_REQUEST'],
    ['an image by URL', { role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'http://169.254.169.254/' } }] }, 'GW_UNSUPPORTED_CONTENT'],
    ['a document block', { role: 'user', content: [{ type: 'document', source: { type: 'text', data: 'x' } }] }, 'GW_UNSUPPORTED_CONTENT'],
  ])('refuses %s rather than dropping it', (_name, message, code) => {
    const request = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }, message] } as AnthropicMessagesRequest;
    expect(thrown(() => translateAnthropicRequestToGemini(request)).code).toBe(code);
  });

  it('refuses a server tool, and marks an error result as an error', () => {
    expect(thrown(() => translateAnthropicRequestToGemini({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'web_search', type: 'web_search_20250305' }] })).code).toBe('GW_UNSUPPORTED_CONTENT');
    const translated = translateAnthropicRequestToGemini({
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'denied', is_error: true }] },
      ],
    });
    expect(translated.contents[1]).toEqual({ role: 'user', parts: [{ functionResponse: { name: 'f', response: { error: 'denied' } } }] });
    expect(translated.contents[0]?.parts[0]?.thoughtSignature).toBe('skip_thought_signature_validator');
  });
});

describe('Gemini answers to Anthropic', () => {
  it('translates the recorded function-call answer: tool_use with a stable id carrying the signature, usage', () => {
    const answer: unknown = JSON.parse(fixture('function-call.json'));
    const message = translateGeminiResponseToAnthropic(answer, context);
    expect(message).toMatchObject({
      id: 'msg_fixtureCallResponse0001',
      type: 'message',
      role: 'assistant',
      model: 'gemini-test',
      stop_reason: 'tool_use',
      content: [{ type: 'tool_use', name: 'get_weather', input: { location: 'Paris, France', unit: 'celsius' } }],
      usage: { input_tokens: 41, output_tokens: 42 },
    });
    const block = message.content[0] as { id: string };
    expect(signatureFromCallId(block.id)).toBe('Zml4dHVyZS10aG91Z2h0LXNpZ25hdHVyZS0wMDAx');
    expect(block.id).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('translates the recorded text answer, and refuses one that is not a Gemini answer', () => {
    expect(translateGeminiResponseToAnthropic(JSON.parse(fixture('text.json')), context)).toMatchObject({ content: [{ type: 'text', text: 'Hello from the Gemini stub.' }], stop_reason: 'end_turn' });
    expect(thrown(() => translateGeminiResponseToAnthropic([1, 2], context)).code).toBe('GW_UPSTREAM_BAD_RESPONSE');
  });

  it.each([[[1]], [[9, 2]], [[1000]]])('streams the recorded SSE text as one text block in pieces of %j', (sizes) => {
    const events = translateStream(fixture('text.chunks.txt'), sizes);
    expect(events.map((event) => event.type)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(events[0]).toMatchObject({ message: { usage: { input_tokens: 12, output_tokens: 0 }, model: 'gemini-test' } });
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 7 } });
  });

  it('streams the JSON-array framing: a thinking block, then the whole call as one tool_use block', () => {
    const events = translateStream(fixture('function-call.array.txt'), [13]);
    expect(events.map((event) => event.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[1]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } });
    expect(events[5]).toEqual({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"location":"Paris, France","unit":"celsius"}' } });
    expect(events[7]).toMatchObject({ delta: { stop_reason: 'tool_use' } });
  });

  it('fails on the upstream error event and on a stream cut before a finishReason', () => {
    expect(thrown(() => translateStream(fixture('error.chunks.txt'), [1000])).code).toBe('GW_UPSTREAM_STREAM_FAILED');
    expect(thrown(() => translateStream(fixture('function-call.array.txt').slice(0, 200), [1000])).code).toBe('GW_UPSTREAM_STREAM_FAILED');
  });
});
