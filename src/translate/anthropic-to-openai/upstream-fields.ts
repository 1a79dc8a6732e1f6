import type { AnthropicUsage } from '../../formats/anthropic/messages-response.js';

/**
 * Lenient readers for what an OpenAI-compatible upstream sends back. "Strict inward, lenient
 * outward": vLLM, Ollama, llama.cpp, LiteLLM and friends omit or re-type fields OpenAI always
 * sends, so a missing or mistyped field reads as undefined instead of failing the whole answer.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readString(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

export function readRecord(record: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = record[key];
  return isRecord(value) ? value : undefined;
}

/** A finite, non-negative integer-ish number (token counts, indexes), or undefined. */
export function readCount(record: Record<string, unknown>, key: string): number | undefined {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * OpenAI ids look like `chatcmpl-<opaque>`, Anthropic's like `msg_<opaque>`. The opaque part is
 * kept so a client-side id can be matched with the upstream's logs.
 */
export function toAnthropicMessageId(upstreamId: string | undefined, fallback: string): string {
  if (upstreamId === undefined || upstreamId === '') return fallback;
  return `msg_${upstreamId.startsWith('chatcmpl-') ? upstreamId.slice('chatcmpl-'.length) : upstreamId}`;
}

/** Token counts read from an OpenAI `usage` object, in Anthropic's split. All values are tokens. */
export interface UpstreamTokenCounts {
  /** Uncached prompt tokens: OpenAI's `prompt_tokens` minus `prompt_tokens_details.cached_tokens`. */
  inputTokens: number;
  /** OpenAI `prompt_tokens_details.cached_tokens` (0 when absent). */
  cacheReadInputTokens: number;
  /** OpenAI `completion_tokens` (reasoning tokens are already inside it). */
  outputTokens: number;
}

/**
 * Reads an OpenAI `usage` object. Returns undefined when it carries neither prompt nor completion
 * counts (a `usage: null` on every stream chunk before the last is normal with include_usage).
 * OpenAI's `prompt_tokens` includes cached tokens; Anthropic's `input_tokens` excludes them and
 * reports them as `cache_read_input_tokens`, so the cached part is subtracted (never below 0).
 */
export function readUpstreamUsage(usage: unknown): UpstreamTokenCounts | undefined {
  if (!isRecord(usage)) return undefined;
  const promptTokens = readCount(usage, 'prompt_tokens');
  const completionTokens = readCount(usage, 'completion_tokens');
  if (promptTokens === undefined && completionTokens === undefined) return undefined;
  const details = readRecord(usage, 'prompt_tokens_details');
  const cachedTokens = Math.min(details === undefined ? 0 : (readCount(details, 'cached_tokens') ?? 0), promptTokens ?? 0);
  return {
    inputTokens: (promptTokens ?? 0) - cachedTokens,
    cacheReadInputTokens: cachedTokens,
    outputTokens: completionTokens ?? 0,
  };
}

/**
 * The Anthropic `usage` of a whole message. `cache_creation_input_tokens` is always 0: OpenAI
 * caches prompts automatically and never bills a cache write.
 */
export function toAnthropicUsage(counts: UpstreamTokenCounts): AnthropicUsage {
  return {
    input_tokens: counts.inputTokens,
    output_tokens: counts.outputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: counts.cacheReadInputTokens,
  };
}
