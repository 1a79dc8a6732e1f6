import type { OpenAIUsage } from '../../formats/openai/chat-response.js';

/**
 * Lenient readers for what an Anthropic upstream sends back. "Strict inward, lenient outward":
 * a field that is missing or of the wrong type reads as undefined instead of failing the whole
 * answer, so a new or omitted upstream field never breaks a client that did nothing wrong.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readString(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

/** A finite, non-negative number, or undefined. Token counts are never negative. */
export function readCount(record: Record<string, unknown>, key: string): number | undefined {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * OpenAI ids look like `chatcmpl-<opaque>`; Anthropic's look like `msg_<opaque>`. The opaque part
 * is kept so a client-side id can be matched with the upstream's logs. Without an upstream id
 * (a lenient read), the id falls back to one derived from `created` (seconds): ids are not
 * security-relevant and translators stay free of randomness.
 */
export function toChatCompletionId(upstreamId: string | undefined, created: number): string {
  if (upstreamId === undefined || upstreamId === '') return `chatcmpl-anthropic-${created}`;
  return `chatcmpl-${upstreamId.startsWith('msg_') ? upstreamId.slice('msg_'.length) : upstreamId}`;
}

/**
 * Anthropic splits the prompt into uncached `input_tokens`, `cache_read_input_tokens` and
 * `cache_creation_input_tokens`; OpenAI's `prompt_tokens` is the whole prompt with the cached part
 * repeated in `prompt_tokens_details.cached_tokens`. All counts are tokens.
 */
export interface AnthropicTokenCounts {
  inputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  outputTokens: number;
}

/** Reads whichever counts an Anthropic `usage` object carries; absent ones stay absent. */
export function readTokenCounts(usage: unknown): Partial<AnthropicTokenCounts> {
  if (!isRecord(usage)) return {};
  const counts: Partial<AnthropicTokenCounts> = {};
  const inputTokens = readCount(usage, 'input_tokens');
  const cacheRead = readCount(usage, 'cache_read_input_tokens');
  const cacheCreation = readCount(usage, 'cache_creation_input_tokens');
  const outputTokens = readCount(usage, 'output_tokens');
  if (inputTokens !== undefined) counts.inputTokens = inputTokens;
  if (cacheRead !== undefined) counts.cacheReadInputTokens = cacheRead;
  if (cacheCreation !== undefined) counts.cacheCreationInputTokens = cacheCreation;
  if (outputTokens !== undefined) counts.outputTokens = outputTokens;
  return counts;
}

export function toOpenAIUsage(counts: Partial<AnthropicTokenCounts>): OpenAIUsage {
  const cachedTokens = counts.cacheReadInputTokens ?? 0;
  const promptTokens = (counts.inputTokens ?? 0) + cachedTokens + (counts.cacheCreationInputTokens ?? 0);
  const completionTokens = counts.outputTokens ?? 0;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens },
  };
}
