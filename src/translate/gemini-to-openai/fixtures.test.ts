import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSseParser } from '../../formats/sse.js';
import type { GeminiGenerateContentRequest } from '../../formats/gemini/generate-content-request.js';
import type { GeminiGenerateContentResponse } from '../../formats/gemini/generate-content-response.js';
import { oddPieces } from '../../../test/helpers/translator-testing.js';
import { translateGeminiRequestToOpenAI } from './request.js';
import { translateOpenAIResponseToGemini } from './response.js';
import { createOpenAIToGeminiStreamTranslator } from './stream.js';

/** The recorded bodies and streams of __fixtures__/ replayed through the Gemini-client translators (OpenAI upstream). */
const fixture = (name: string): string => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

function replay(name: string, sizes: number[]): GeminiGenerateContentResponse[] {
  const parser = createSseParser();
  const translator = createOpenAIToGeminiStreamTranslator({ model: 'gpt-test' });
  const chunks: GeminiGenerateContentResponse[] = [];
  for (const piece of oddPieces(fixture(name), sizes)) for (const event of parser.push(piece)) chunks.push(...translator.push(event));
  for (const event of parser.flush()) chunks.push(...translator.push(event));
  chunks.push(...translator.flush());
  return chunks;
}

describe('gemini-to-openai fixtures', () => {
  it('translates the recorded function-call history: image as a data URL, thought and its signature not sent, tool result paired', () => {
    const request = JSON.parse(fixture('request-function-history.json')) as GeminiGenerateContentRequest;
    const translated = translateGeminiRequestToOpenAI(request, { upstreamModel: 'gpt-test', stream: true });
    expect(translated.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(JSON.stringify(translated)).not.toContain('thought');
    expect(JSON.stringify(translated)).not.toContain('Zml4dHVyZS10aG91Z2h0');
    expect(translated.messages[3]).toEqual({ role: 'tool', tool_call_id: 'call_gemini_1_1', content: '{"temperature":18,"unit":"celsius"}' });
    expect(translated.stream_options).toEqual({ include_usage: true });
  });

  it('translates the recorded tool-call answer', () => {
    const answer = translateOpenAIResponseToGemini(JSON.parse(fixture('tool-calls.json')), { model: 'gpt-test' });
    expect(answer.candidates[0]?.content.parts.map((part) => part.functionCall?.name)).toEqual(['get_weather', 'get_weather']);
    expect(answer.candidates[0]?.finishReason).toBe('STOP');
    expect(answer.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
  });

  it.each([[[1]], [[13, 5]], [[100000]]])('gives the same chunks for the recorded streams in pieces of %j', (sizes) => {
    const text = replay('text.chunks.txt', sizes);
    expect(text.map((chunk) => chunk.candidates[0]?.content.parts[0]?.text ?? '').join('')).toBe(replay('text.chunks.txt', [100000]).map((chunk) => chunk.candidates[0]?.content.parts[0]?.text ?? '').join(''));
    expect(text.at(-1)?.candidates[0]?.finishReason).toBe('STOP');
    const calls = replay('tool-calls.chunks.txt', sizes);
    expect(calls.at(-1)?.candidates[0]?.content.parts[0]?.functionCall).toMatchObject({ name: 'get_weather' });
  });
});
