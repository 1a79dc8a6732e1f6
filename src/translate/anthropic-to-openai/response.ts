import type { AnthropicMessagesResponse, AnthropicResponseBlock, AnthropicStopReason } from '../../formats/anthropic/messages-response.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { estimateTextTokens } from './estimate-tokens.js';
import { isRecord, readRecord, readString, readUpstreamUsage, toAnthropicMessageId, toAnthropicUsage } from './upstream-fields.js';

export interface OpenAIToAnthropicResponseContext {
  /**
   * The model name when the upstream reports none: the provider's model name. Answers carry the
   * name the upstream reports (docs/configuration.md, "Model names in answers").
   */
  model: string;
  /** Used only when the upstream sent no `id` (a lenient read); ids stay deterministic in tests. */
  messageId?: string;
}

/** Fallback message id when neither the upstream nor the caller supplies one. */
export const fallbackMessageId = 'msg_upstream_without_id';

const stopReasonByFinishReason: Record<string, AnthropicStopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  // Anthropic's `refusal` is its safety-classifier stop, the closest match to OpenAI's content filter.
  content_filter: 'refusal',
};

/**
 * OpenAI `finish_reason` → Anthropic `stop_reason`: stop → end_turn, length → max_tokens,
 * tool_calls / function_call → tool_use, content_filter → refusal. null/undefined (still
 * generating) → null. Unknown reasons from OpenAI-compatible servers (`eos`, `abort`, …) →
 * end_turn: the turn did end, and a null stop_reason on a final message breaks Anthropic clients.
 * OpenAI cannot say which stop sequence matched, so `stop_sequence` is never produced.
 */
export function mapOpenAIFinishReason(reason: string | null | undefined): AnthropicStopReason | null {
  if (reason === null || reason === undefined) return null;
  return Object.hasOwn(stopReasonByFinishReason, reason) ? (stopReasonByFinishReason[reason] ?? 'end_turn') : 'end_turn';
}

/**
 * The stop reason of a finished turn. Some OpenAI-compatible servers (Ollama, Gemini's OpenAI
 * endpoint) answer tool calls with finish_reason `stop`; Anthropic agents loop on
 * `stop_reason === 'tool_use'`, so a turn that produced tool calls and ended normally says so.
 */
export function finalStopReason(reason: string | null | undefined, producedToolCalls: boolean): AnthropicStopReason {
  const mapped = mapOpenAIFinishReason(reason) ?? 'end_turn';
  return producedToolCalls && mapped === 'end_turn' ? 'tool_use' : mapped;
}

/**
 * Tool arguments → Anthropic `input`, which must be an object. Empty arguments (a tool without
 * parameters) → `{}`. Arguments that are not a JSON object (a model emitting broken JSON) →
 * `{"_raw": "<the arguments>"}`: the call still reaches the client, whose tool validation then
 * tells the model exactly what it sent, instead of the gateway failing the whole answer or
 * silently calling the tool with no arguments.
 */
export function parseToolArguments(argumentsText: string): Record<string, unknown> {
  if (argumentsText.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(argumentsText);
    if (isRecord(parsed)) return parsed;
  } catch {
    // Falls through to the raw wrapper.
  }
  return { _raw: argumentsText };
}

/** `content` is a string for OpenAI; a few compatible servers send an array of text parts. */
function readContentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isRecord(part) ? (readString(part, 'text') ?? '') : '')).join('');
}

function readToolUses(message: Record<string, unknown>): AnthropicResponseBlock[] {
  const blocks: AnthropicResponseBlock[] = [];
  const toolCalls = Array.isArray(message['tool_calls']) ? (message['tool_calls'] as unknown[]) : [];
  // Pre-2023 servers still answer with a single `function_call`.
  const legacy = readRecord(message, 'function_call');
  const calls = legacy === undefined ? toolCalls : [...toolCalls, { id: undefined, function: legacy }];
  calls.forEach((call, index) => {
    if (!isRecord(call)) return;
    const fields = readRecord(call, 'function') ?? {};
    const id = readString(call, 'id');
    blocks.push({
      type: 'tool_use',
      id: id === undefined || id === '' ? `toolu_upstream_${index}` : id,
      name: readString(fields, 'name') ?? '',
      input: parseToolArguments(readString(fields, 'arguments') ?? ''),
    });
  });
  return blocks;
}

/**
 * Translates a non-streaming OpenAI chat completion into an Anthropic Messages response.
 *
 * Lenient: only a missing `choices[0].message` is an error (GW_UPSTREAM_BAD_RESPONSE). Empty text
 * is omitted (Anthropic rejects empty text blocks when the client sends history back). A
 * `refusal` string is shown as text when there is no content. `reasoning_content` (DeepSeek,
 * vLLM) is dropped: an Anthropic thinking block needs a signature the gateway cannot make.
 * Usage: input_tokens = prompt_tokens − cached_tokens, cache_read_input_tokens = cached_tokens,
 * output_tokens = completion_tokens; without upstream usage, input is 0 (unknown) and output is
 * estimated from the generated text (see estimate-tokens.ts), so accounting never sees zero.
 */
export function translateOpenAIResponseToAnthropic(body: unknown, context: OpenAIToAnthropicResponseContext): AnthropicMessagesResponse {
  const root = isRecord(body) ? body : {};
  const choices = Array.isArray(root['choices']) ? (root['choices'] as unknown[]) : [];
  const choice = isRecord(choices[0]) ? choices[0] : undefined;
  const message = choice === undefined ? undefined : readRecord(choice, 'message');
  if (choice === undefined || message === undefined) {
    throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message: 'The upstream response has no choices[0].message.' });
  }

  const content: AnthropicResponseBlock[] = [];
  const text = readContentText(message['content']) || (readString(message, 'refusal') ?? '');
  if (text !== '') content.push({ type: 'text', text });
  const toolUses = readToolUses(message);
  content.push(...toolUses);

  const generated = content.map((block) => (block.type === 'text' ? block.text : block.type === 'tool_use' ? JSON.stringify(block.input) : ''));
  const counts = readUpstreamUsage(root['usage']) ?? {
    inputTokens: 0,
    cacheReadInputTokens: 0,
    outputTokens: estimateTextTokens(generated.join('')),
  };

  return {
    id: toAnthropicMessageId(readString(root, 'id'), context.messageId ?? fallbackMessageId),
    type: 'message',
    role: 'assistant',
    model: readString(root, 'model') || context.model,
    content,
    stop_reason: finalStopReason(readString(choice, 'finish_reason'), toolUses.length > 0),
    stop_sequence: null,
    usage: toAnthropicUsage(counts),
  };
}
