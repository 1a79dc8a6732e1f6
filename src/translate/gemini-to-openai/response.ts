import { GatewayError } from '../../errors/gateway-error.js';
import type { GeminiFinishReason, GeminiGenerateContentResponse, GeminiResponsePart, GeminiUsageMetadata } from '../../formats/gemini/generate-content-response.js';
import { count, geminiResponse, isRecord, parseArguments } from '../../formats/gemini/response-builder.js';

export interface OpenAIToGeminiResponseContext {
  /** The model name when the upstream reports none (the provider's model name). */
  model: string;
}

/**
 * OpenAI `finish_reason` → Gemini `finishReason`: stop and tool_calls → STOP (Gemini ends a
 * function-calling turn with STOP), length → MAX_TOKENS, content_filter → SAFETY, anything else
 * that ended the turn → OTHER; null (not finished) → undefined.
 */
export function mapOpenAIFinishReason(reason: unknown): GeminiFinishReason | undefined {
  if (reason === null || reason === undefined) return undefined;
  if (reason === 'stop' || reason === 'tool_calls' || reason === 'function_call') return 'STOP';
  if (reason === 'length') return 'MAX_TOKENS';
  if (reason === 'content_filter') return 'SAFETY';
  return 'OTHER';
}

/** OpenAI `usage` → Gemini `usageMetadata`; undefined when the upstream sent none (unknown is not zero). */
export function toUsageMetadata(usage: unknown): GeminiUsageMetadata | undefined {
  if (!isRecord(usage)) return undefined;
  const promptTokenCount = count(usage, 'prompt_tokens');
  const candidatesTokenCount = count(usage, 'completion_tokens');
  const metadata: GeminiUsageMetadata = { promptTokenCount, candidatesTokenCount, totalTokenCount: count(usage, 'total_tokens') || promptTokenCount + candidatesTokenCount };
  const details = usage['prompt_tokens_details'];
  if (isRecord(details) && count(details, 'cached_tokens') > 0) metadata.cachedContentTokenCount = count(details, 'cached_tokens');
  return metadata;
}

/**
 * Translates a non-streamed OpenAI chat completion into a Gemini generateContent answer. Lenient:
 * only a body without `choices` is unusable (GW_UPSTREAM_BAD_RESPONSE). A tool call becomes a
 * functionCall part carrying the upstream's call id as `id`, so the functionResponse the client
 * sends back pairs with it exactly (without an id it pairs by name, functionCallIds).
 */
export function translateOpenAIResponseToGemini(body: unknown, context: OpenAIToGeminiResponseContext): GeminiGenerateContentResponse {
  const choices = isRecord(body) ? body['choices'] : undefined;
  if (!isRecord(body) || !Array.isArray(choices)) {
    throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message: 'The OpenAI upstream sent a response without a choices array.' });
  }
  const choice: unknown = choices[0];
  const message = isRecord(choice) ? choice['message'] : undefined;
  const parts: GeminiResponsePart[] = [];
  if (isRecord(message)) {
    if (typeof message['content'] === 'string' && message['content'] !== '') parts.push({ text: message['content'] });
    const toolCalls = message['tool_calls'];
    if (Array.isArray(toolCalls)) {
      for (const call of toolCalls) {
        const fn = isRecord(call) ? call['function'] : undefined;
        if (!isRecord(call) || !isRecord(fn) || typeof fn['name'] !== 'string') continue;
        const id = typeof call['id'] === 'string' ? call['id'] : undefined;
        parts.push({ functionCall: { name: fn['name'], args: parseArguments(typeof fn['arguments'] === 'string' ? fn['arguments'] : ''), ...(id === undefined ? {} : { id }) } });
      }
    }
  }
  const finishReason = mapOpenAIFinishReason(isRecord(choice) ? choice['finish_reason'] : undefined);
  return geminiResponse({
    parts,
    finishReason,
    modelVersion: typeof body['model'] === 'string' ? body['model'] : context.model,
    usageMetadata: toUsageMetadata(body['usage']),
    responseId: typeof body['id'] === 'string' ? body['id'] : undefined,
  });
}
