import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSseParser } from '../../formats/sse.js';
import type { GeminiGenerateContentRequest } from '../../formats/gemini/generate-content-request.js';
import { translateGeminiRequestToOpenAI } from './request.js';
import { translateOpenAIResponseToGemini } from './response.js';
import { createOpenAIToGeminiStreamTranslator } from './stream.js';

const options = { upstreamModel: 'gpt-up', stream: false };

describe('translateGeminiRequestToOpenAI', () => {
  it('turns a function-call history into tool calls and tool messages with stable ids, paired by name in order', () => {
    const request: GeminiGenerateContentRequest = {
      systemInstruction: { parts: [{ text: 'Be terse.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris and Tokyo?' }] },
        { role: 'model', parts: [{ text: 'Checking.', thought: true }, { functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_weather', args: { city: 'Tokyo' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { c: 18 } } }, { functionResponse: { name: 'get_weather', response: { c: 9 } } }] },
      ],
      generationConfig: { maxOutputTokens: 64, topP: 0.5, stopSequences: ['END'] },
      tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING', nullable: true } }, required: ['city'] } }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
    };
    const translated = translateGeminiRequestToOpenAI(request, options);
    expect(translated).toEqual({
      model: 'gpt-up',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'Weather in Paris and Tokyo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_gemini_1_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_gemini_1_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_gemini_1_1', content: '{"c":18}' },
        { role: 'tool', tool_call_id: 'call_gemini_1_2', content: '{"c":9}' },
      ],
      max_tokens: 64,
      top_p: 0.5,
      stop: ['END'],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: ['string', 'null'] } }, required: ['city'] } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    // The same history gives the same ids on the next request.
    expect(translateGeminiRequestToOpenAI(request, options)).toEqual(translated);
  });

  it('keeps a client-sent call id, and carries inline images as data URLs', () => {
    const translated = translateGeminiRequestToOpenAI(
      {
        contents: [
          { role: 'model', parts: [{ functionCall: { name: 'f', id: 'call_up_1' } }] },
          { role: 'user', parts: [{ functionResponse: { name: 'f', id: 'call_up_1', response: {} } }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }] },
        ],
      },
      options,
    );
    expect(translated.messages.slice(1)).toEqual([
      { role: 'tool', tool_call_id: 'call_up_1', content: '{}' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
    ]);
  });

  it.each([
    ['an orphan functionResponse', { contents: [{ role: 'user', parts: [{ functionResponse: { name: 'f', response: {} } }] }] }, 'GW_INVALID_REQUEST'],
    ['a fileData part', { contents: [{ role: 'user', parts: [{ fileData: { fileUri: 'gs://x' } }] }] }, 'GW_UNSUPPORTED_CONTENT'],
    ['inline audio', { contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'audio/wav', data: 'AAAA' } }] }] }, 'GW_UNSUPPORTED_CONTENT'],
    ['two candidates', { contents: [{ parts: [{ text: 'hi' }] }], generationConfig: { candidateCount: 2 } }, 'GW_UNSUPPORTED_CONTENT'],
  ])('refuses %s rather than dropping it', (_name, request, code) => {
    expect(() => translateGeminiRequestToOpenAI(request as GeminiGenerateContentRequest, options)).toThrow(expect.objectContaining({ code }));
  });
});

describe('OpenAI answers to Gemini', () => {
  it('maps a tool-call answer: functionCall with the upstream id, STOP, usageMetadata', () => {
    const answer = {
      id: 'chatcmpl-1',
      model: 'gpt-up-2024',
      choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] } }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    };
    expect(translateOpenAIResponseToGemini(answer, { model: 'gpt-up' })).toEqual({
      candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'f', args: { a: 1 }, id: 'call_1' } }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
      modelVersion: 'gpt-up-2024',
      responseId: 'chatcmpl-1',
    });
  });

  it('streams the recorded interleaved tool calls whole in the last chunk, the only one with a finishReason', () => {
    const bytes = readFileSync(new URL('../anthropic-to-openai/__fixtures__/tool-calls-interleaved.chunks.txt', import.meta.url), 'utf8');
    const translator = createOpenAIToGeminiStreamTranslator({ model: 'gpt-up' });
    const chunks = [...createSseParser().push(bytes)].flatMap((event) => translator.push(event));
    chunks.push(...translator.flush());
    const last = chunks.at(-1);
    expect(last?.candidates[0]?.finishReason).toBe('STOP');
    expect(last?.candidates[0]?.content.parts.map((part) => part.functionCall?.name)).toEqual(['get_weather', 'get_weather', 'get_time']);
    expect(chunks.slice(0, -1).every((chunk) => chunk.candidates[0]?.finishReason === undefined)).toBe(true);
  });

  it('fails a stream that ends before a finish_reason', () => {
    const translator = createOpenAIToGeminiStreamTranslator({ model: 'gpt-up' });
    translator.push({ event: undefined, data: '{"choices":[{"index":0,"delta":{"content":"Hel"}}]}' });
    expect(() => translator.flush()).toThrow(expect.objectContaining({ code: 'GW_UPSTREAM_STREAM_FAILED' }));
  });
});
