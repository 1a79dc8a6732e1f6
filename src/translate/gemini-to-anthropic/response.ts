import { GatewayError } from '../../errors/gateway-error.js';
import type { GeminiFinishReason, GeminiGenerateContentResponse, GeminiResponsePart, GeminiUsageMetadata } from '../../formats/gemini/generate-content-response.js';
import { count, geminiResponse, isRecord } from '../../formats/gemini/response-builder.js';

export interface AnthropicToGeminiResponseContext {
  /** The model name when the upstream reports none (the provider's model name). */
  model: string;
}

/**
 * Anthropic `stop_reason` → Gemini `finishReason`: end_turn, stop_sequence, tool_use and pause_turn
 * → STOP; max_tokens and model_context_window_exceeded → MAX_TOKENS; refusal → SAFETY; another
 * reason that ended the turn → OTHER; null (not finished) → undefined.
 */
export function mapAnthropicStopReason(reason: unknown): GeminiFinishReason | undefined {
  if (reason === null || reason === undefined) return undefined;
  if (reason === 'end_turn' || reason === 'stop_sequence' || reason === 'tool_use' || reason === 'pause_turn') return 'STOP';
  if (reason === 'max_tokens' || reason === 'model_context_window_exceeded') return 'MAX_TOKENS';
  if (reason === 'refusal') return 'SAFETY';
  return 'OTHER';
}

/**
 * Anthropic `usage` → Gemini `usageMetadata`. Anthropic's `input_tokens` excludes cache reads and
 * writes; Gemini's promptTokenCount is the whole prompt, so they are added. Undefined when none.
 */
export function toUsageMetadata(usage: unknown): GeminiUsageMetadata | undefined {
  if (!isRecord(usage)) return undefined;
  const cached = count(usage, 'cache_read_input_tokens');
  const promptTokenCount = count(usage, 'input_tokens') + cached + count(usage, 'cache_creation_input_tokens');
  const candidatesTokenCount = count(usage, 'output_tokens');
  const metadata: GeminiUsageMetadata = { promptTokenCount, candidatesTokenCount, totalTokenCount: promptTokenCount + candidatesTokenCount };
  if (cached > 0) metadata.cachedContentTokenCount = cached;
  return metadata;
}

/**
 * Translates a non-streamed Anthropic message into a Gemini generateContent answer. Lenient: only
 * a body without a `content` array is unusable. text → text part; tool_use → functionCall with the
 * tool_use id as `id`; thinking → a `thought: true` text part (its signature is not passed on: it
 * is only valid for the provider that made it); other blocks have no Gemini counterpart.
 */
export function translateAnthropicResponseToGemini(body: unknown, context: AnthropicToGeminiResponseContext): GeminiGenerateContentResponse {
  const content = isRecord(body) ? body['content'] : undefined;
  if (!isRecord(body) || !Array.isArray(content)) {
    throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message: 'The Anthropic upstream sent a response without a content array.' });
  }
  const parts: GeminiResponsePart[] = [];
  for (const block of content) {
    if (!isRecord(block)) continue;
    if (block['type'] === 'text' && typeof block['text'] === 'string') parts.push({ text: block['text'] });
    else if (block['type'] === 'thinking' && typeof block['thinking'] === 'string') parts.push({ text: block['thinking'], thought: true });
    else if (block['type'] === 'tool_use' && typeof block['name'] === 'string') {
      const args = isRecord(block['input']) ? block['input'] : {};
      parts.push({ functionCall: { name: block['name'], args, ...(typeof block['id'] === 'string' ? { id: block['id'] } : {}) } });
    }
  }
  const finishReason = mapAnthropicStopReason(body['stop_reason']);
  return geminiResponse({
    parts,
    finishReason,
    modelVersion: typeof body['model'] === 'string' ? body['model'] : context.model,
    usageMetadata: toUsageMetadata(body['usage']),
    responseId: typeof body['id'] === 'string' ? body['id'] : undefined,
  });
}
