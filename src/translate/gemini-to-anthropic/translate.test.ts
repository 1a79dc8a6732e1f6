import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSseParser } from '../../formats/sse.js';
import type { GeminiGenerateContentRequest } from '../../formats/gemini/generate-content-request.js';
import { translateGeminiRequestToAnthropic } from './request.js';
import { translateAnthropicResponseToGemini } from './response.js';
import { createAnthropicToGeminiStreamTranslator } from './stream.js';

const options = { upstreamModel: 'claude-up', defaultMaxTokens: 1024, stream: true };

describe('translateGeminiRequestToAnthropic', () => {
  it('turns the history into tool_use / tool_result blocks with stable ids; thoughts are not replayed', () => {
    const request: GeminiGenerateContentRequest = {
      systemInstruction: { parts: [{ text: 'Be terse.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Weather?' }, { inlineData: { mimeType: 'image/jpeg', data: 'AAAA' } }] },
        { role: 'model', parts: [{ text: 'secret reasoning', thought: true, thoughtSignature: 'sig' }, { functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
        { role: 'user', parts: [{ text: 'and then?' }, { functionResponse: { name: 'get_weather', response: { c: 18 } } }] },
      ],
      generationConfig: { temperature: 0.2, topK: 40 },
      tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } } } }] }],
      toolConfig: { functionCallingConfig: { mode: 'NONE' } },
    };
    expect(translateGeminiRequestToAnthropic(request, options)).toEqual({
      model: 'claude-up',
      max_tokens: 1024,
      system: 'Be terse.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'AAAA' } }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_gemini_1_1', name: 'get_weather', input: { city: 'Paris' } }] },
        // Tool results first in their turn, as Anthropic requires.
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_gemini_1_1', content: '{"c":18}' }, { type: 'text', text: 'and then?' }] },
      ],
      temperature: 0.2,
      top_k: 40,
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      tool_choice: { type: 'none' },
      stream: true,
    });
    expect(JSON.stringify(translateGeminiRequestToAnthropic(request, options))).not.toContain('sig');
  });

  it.each([
    ['temperature above 1 (Anthropic range 0..1), never clamped', { contents: [{ parts: [{ text: 'hi' }] }], generationConfig: { temperature: 1.5 } }, 'GW_INVALID_REQUEST'],
    ['an orphan functionResponse', { contents: [{ role: 'user', parts: [{ functionResponse: { name: 'f' } }] }] }, 'GW_INVALID_REQUEST'],
    ['an executable-code part', { contents: [{ role: 'model', parts: [{ executableCode: { code: 'x' } }] }] }, 'GW_UNSUPPORTED_CONTENT'],
    ['no content at all', { contents: [] }, 'GW_INVALID_REQUEST'],
  ])('refuses %s', (_name, request, code) => {
    expect(() => translateGeminiRequestToAnthropic(request as GeminiGenerateContentRequest, options)).toThrow(expect.objectContaining({ code }));
  });
});

describe('Anthropic answers to Gemini', () => {
  it('maps text, tool_use (with its id), MAX_TOKENS and the whole prompt count', () => {
    const answer = {
      id: 'msg_1',
      model: 'claude-up-1',
      stop_reason: 'max_tokens',
      content: [{ type: 'text', text: 'Hi' }, { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } }],
      usage: { input_tokens: 10, cache_read_input_tokens: 4, output_tokens: 3 },
    };
    expect(translateAnthropicResponseToGemini(answer, { model: 'claude-up' })).toEqual({
      candidates: [{ content: { role: 'model', parts: [{ text: 'Hi' }, { functionCall: { name: 'f', args: { a: 1 }, id: 'toolu_1' } }] }, finishReason: 'MAX_TOKENS', index: 0 }],
      usageMetadata: { promptTokenCount: 14, candidatesTokenCount: 3, totalTokenCount: 17, cachedContentTokenCount: 4 },
      modelVersion: 'claude-up-1',
      responseId: 'msg_1',
    });
  });

  it('streams the recorded tool_use: each call whole at its block stop, usage and STOP last', () => {
    const bytes = readFileSync(new URL('../openai-to-anthropic/__fixtures__/tool-use.chunks.txt', import.meta.url), 'utf8');
    const translator = createAnthropicToGeminiStreamTranslator({ model: 'claude-up' });
    const chunks = [...createSseParser().push(bytes)].flatMap((event) => translator.push(event));
    chunks.push(...translator.flush());
    const calls = chunks.flatMap((chunk) => chunk.candidates[0]?.content.parts.filter((part) => part.functionCall !== undefined) ?? []);
    expect(calls).toHaveLength(2); // the recording calls get_weather twice
    expect(calls[0]?.functionCall?.id).toMatch(/^toolu_/);
    const last = chunks.at(-1);
    expect(last?.candidates[0]?.finishReason).toBe('STOP');
    expect(last?.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
  });

  it('fails on the upstream error event and on an end before message_stop', () => {
    const translator = createAnthropicToGeminiStreamTranslator({ model: 'claude-up' });
    expect(() => translator.push({ event: 'error', data: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' })).toThrow('Overloaded');
    const cut = createAnthropicToGeminiStreamTranslator({ model: 'claude-up' });
    cut.push({ event: 'message_start', data: '{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3}}}' });
    expect(() => cut.flush()).toThrow(expect.objectContaining({ code: 'GW_UPSTREAM_STREAM_FAILED' }));
  });
});
