import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSseParser } from '../../formats/sse.js';
import type { GeminiGenerateContentRequest } from '../../formats/gemini/generate-content-request.js';
import type { GeminiGenerateContentResponse } from '../../formats/gemini/generate-content-response.js';
import { oddPieces } from '../../../test/helpers/translator-testing.js';
import { translateGeminiRequestToAnthropic } from './request.js';
import { translateAnthropicResponseToGemini } from './response.js';
import { createAnthropicToGeminiStreamTranslator } from './stream.js';

/** The recorded bodies and streams of __fixtures__/ replayed through the Gemini-client translators (Anthropic upstream). */
const fixture = (name: string): string => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

function replay(name: string, sizes: number[]): GeminiGenerateContentResponse[] {
  const parser = createSseParser();
  const translator = createAnthropicToGeminiStreamTranslator({ model: 'claude-test' });
  const chunks: GeminiGenerateContentResponse[] = [];
  for (const piece of oddPieces(fixture(name), sizes)) for (const event of parser.push(piece)) chunks.push(...translator.push(event));
  for (const event of parser.flush()) chunks.push(...translator.push(event));
  chunks.push(...translator.flush());
  return chunks;
}

describe('gemini-to-anthropic fixtures', () => {
  it('translates the recorded function-call history: base64 image block, no thinking or signature replayed, tool_result paired', () => {
    const request = JSON.parse(fixture('request-function-history.json')) as GeminiGenerateContentRequest;
    const translated = translateGeminiRequestToAnthropic(request, { upstreamModel: 'claude-test', defaultMaxTokens: 1024, stream: false });
    expect(translated).toMatchObject({ system: 'You are a weather assistant.', max_tokens: 256, temperature: 0.2, stop_sequences: ['END'] });
    expect(translated.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(translated)).not.toContain('Zml4dHVyZS10aG91Z2h0');
    expect(translated.messages[2]?.content).toEqual([{ type: 'tool_result', tool_use_id: 'call_gemini_1_1', content: '{"temperature":18,"unit":"celsius"}' }]);
    expect(translated.tools?.[0]?.input_schema).toEqual({ type: 'object', properties: { location: { type: 'string' }, unit: { type: ['string', 'null'], enum: ['celsius', 'fahrenheit'] } }, required: ['location'] });
  });

  it('translates the recorded tool-use answer', () => {
    const answer = translateAnthropicResponseToGemini(JSON.parse(fixture('tool-use.json')), { model: 'claude-test' });
    expect(answer.candidates[0]?.content.parts.some((part) => part.functionCall?.name === 'get_weather')).toBe(true);
    expect(answer.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
  });

  it.each([[[1]], [[17, 3]], [[100000]]])('gives the same chunks for the recorded streams in pieces of %j', (sizes) => {
    const whole = (chunks: GeminiGenerateContentResponse[]): string => chunks.map((chunk) => chunk.candidates[0]?.content.parts.map((part) => part.text ?? '').join('')).join('');
    expect(whole(replay('text.chunks.txt', sizes))).toBe(whole(replay('text.chunks.txt', [100000])));
    const calls = replay('tool-use.chunks.txt', sizes);
    expect(calls.flatMap((chunk) => chunk.candidates[0]?.content.parts ?? []).find((part) => part.functionCall !== undefined)?.functionCall).toMatchObject({ name: 'get_weather' });
    expect(calls.at(-1)?.candidates[0]?.finishReason).toBe('STOP');
  });
});
