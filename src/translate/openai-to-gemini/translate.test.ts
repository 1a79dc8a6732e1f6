import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createGeminiStreamParser } from '../../formats/gemini/stream-parser.js';
import { signatureFromCallId } from '../../formats/gemini/upstream-answer.js';
import type { OpenAIChatRequest } from '../../formats/openai/chat-request.js';
import type { OpenAIChatChunk } from '../../formats/openai/chat-response.js';
import { oddPieces, thrown } from '../../../test/helpers/translator-testing.js';
import { translateOpenAIRequestToGemini } from './request.js';
import { translateGeminiResponseToOpenAI } from './response.js';
import { createGeminiToOpenAIStreamTranslator } from './stream.js';

const fixture = (name: string): string => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const context = { model: 'gemini-test', created: 1_735_689_600, requestId: 'req-1' };

function translateStream(text: string, pieceSizes: number[], includeUsage = true): OpenAIChatChunk[] {
  const parser = createGeminiStreamParser();
  const translator = createGeminiToOpenAIStreamTranslator({ ...context, includeUsage });
  const chunks: OpenAIChatChunk[] = [];
  for (const piece of oddPieces(text, pieceSizes)) for (const event of parser.push(piece)) chunks.push(...translator.push(event));
  for (const event of parser.flush()) chunks.push(...translator.push(event));
  chunks.push(...translator.flush());
  return chunks;
}

describe('translateOpenAIRequestToGemini', () => {
  it('translates the recorded multi-turn tool request: system, image, signed and unsigned calls, results by name, cleaned schema', () => {
    const request = JSON.parse(fixture('request-tools-multi-turn.json')) as OpenAIChatRequest;
    expect(translateOpenAIRequestToGemini(request)).toEqual({
      systemInstruction: { parts: [{ text: 'You are a weather assistant.\n\nAnswer in one sentence.' }] },
      contents: [
        {
          role: 'user',
          parts: [
            { text: "What's the weather in Paris? Here is a map:" },
            { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAHnOcQAAAAABJRU5ErkJggg==' } },
          ],
        },
        {
          role: 'model',
          parts: [
            // The signature the id carries comes back on its call; the second parallel call carries none.
            { functionCall: { name: 'get_weather', args: { location: 'Paris, France' } }, thoughtSignature: 'fixture-thought-signature-0001' },
            { functionCall: { name: 'get_time', args: { city: 'Paris' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_weather', response: { temperature: 18, unit: 'celsius' } } },
            { functionResponse: { name: 'get_time', response: { result: '14:05' } } },
            { text: 'And tomorrow?' },
          ],
        },
      ],
      generationConfig: { maxOutputTokens: 256, temperature: 0.2, stopSequences: ['END'] },
      tools: [
        {
          functionDeclarations: [
            {
              name: 'get_weather',
              description: 'Current weather',
              parameters: { type: 'OBJECT', properties: { location: { type: 'STRING' }, unit: { type: 'STRING', nullable: true, enum: ['celsius', 'fahrenheit'] } }, required: ['location'] },
            },
            { name: 'get_time' },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
    });
  });

  it("gives a call that never came from Gemini Google's stand-in signature, so Gemini 3 takes the history", () => {
    const translated = translateOpenAIRequestToGemini({
      model: 'm',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_from_openai', type: 'function', function: { name: 'f', arguments: '' } }] },
        { role: 'tool', tool_call_id: 'call_from_openai', content: '[1,2]' },
      ],
    });
    expect(translated.contents[1]).toEqual({ role: 'model', parts: [{ text: 'Checking.' }, { functionCall: { name: 'f', args: {} }, thoughtSignature: 'skip_thought_signature_validator' }] });
    expect(translated.contents[2]).toEqual({ role: 'user', parts: [{ functionResponse: { name: 'f', response: { result: '[1,2]' } } }] });
  });

  it.each([
    ['a tool result answering no call', { role: 'tool', tool_call_id: 'nope', content: 'x' }, 'GW_INVALID_REQUEST'],
    ['an image by http URL', { role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://169.254.169.254/x.png' } }] }, 'GW_UNSUPPORTED_CONTENT'],
    ['an audio part', { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }, 'GW_UNSUPPORTED_CONTENT'],
    ['tool-call arguments that are not an object', { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }] }, 'GW_INVALID_REQUEST'],
  ])('refuses %s rather than dropping it', (_name, message, code) => {
    const request = { model: 'm', messages: [{ role: 'user', content: 'hi' }, message] } as OpenAIChatRequest;
    expect(thrown(() => translateOpenAIRequestToGemini(request)).code).toBe(code);
  });

  it('maps response_format, reasoning_effort and tool_choice', () => {
    const translated = translateOpenAIRequestToGemini({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'integer' } } } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { a: { const: 1 } } } } },
      reasoning_effort: 'low',
    } as OpenAIChatRequest);
    expect(translated.generationConfig).toEqual({ responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { a: { type: 'STRING', enum: ['1'] } } }, thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } });
    expect(translated.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } });
  });
});

describe('Gemini answers to OpenAI', () => {
  it('translates the recorded function-call answer: a stable id carrying the thoughtSignature, tool_calls, usage with thinking', () => {
    const answer: unknown = JSON.parse(fixture('function-call.json'));
    const response = translateGeminiResponseToOpenAI(answer, context);
    const call = response.choices[0]?.message.tool_calls?.[0];
    expect(response).toMatchObject({
      id: 'fixtureCallResponse0001',
      model: 'gemini-test',
      choices: [{ finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' } }] } }],
      usage: { prompt_tokens: 41, completion_tokens: 42, total_tokens: 83, completion_tokens_details: { reasoning_tokens: 24 } },
    });
    expect(signatureFromCallId(call?.id ?? '')).toBe('Zml4dHVyZS10aG91Z2h0LXNpZ25hdHVyZS0wMDAx');
    expect(translateGeminiResponseToOpenAI(answer, context).choices[0]?.message.tool_calls?.[0]?.id).toBe(call?.id);
  });

  it.each([
    ['not an object', 'text'],
    ['no candidates', { usage: 1 }],
    ['an error object', { error: { code: 500, message: 'boom' } }],
  ])('refuses an answer that is %s with GW_UPSTREAM_BAD_RESPONSE', (_name, body) => {
    expect(thrown(() => translateGeminiResponseToOpenAI(body, context)).code).toBe('GW_UPSTREAM_BAD_RESPONSE');
  });

  it('maps a blocked prompt to content_filter', () => {
    expect(translateGeminiResponseToOpenAI({ promptFeedback: { blockReason: 'SAFETY' } }, context).choices[0]?.finish_reason).toBe('content_filter');
  });

  it.each([[[1]], [[7, 3]], [[1000]]])('streams the recorded SSE text the same in pieces of %j', (sizes) => {
    const chunks = translateStream(fixture('text.chunks.txt'), sizes);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Hello from the Gemini stub.');
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } });
  });

  it('reads the JSON-array framing too: thinking as reasoning_content, the whole call in one delta', () => {
    const chunks = translateStream(fixture('function-call.array.txt'), [5, 11]);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', reasoning_content: 'Looking up the weather in Paris.' });
    const call = chunks[1]?.choices[0]?.delta.tool_calls?.[0];
    expect(call).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' } });
    expect(signatureFromCallId(call?.id ?? '')).toBe('Zml4dHVyZS10aG91Z2h0LXNpZ25hdHVyZS0wMDAy');
    expect(chunks[2]?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('fails on the upstream error event, and on a stream that ends before a finishReason', () => {
    expect(thrown(() => translateStream(fixture('error.chunks.txt'), [1000])).code).toBe('GW_UPSTREAM_STREAM_FAILED');
    expect(thrown(() => translateStream(fixture('text.chunks.txt').split('\r\n\r\n').slice(0, 2).join('\r\n\r\n'), [1000])).code).toBe('GW_UPSTREAM_STREAM_FAILED');
  });
});
