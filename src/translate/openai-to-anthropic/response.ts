import type { OpenAIChatResponse, OpenAIFinishReason, OpenAIResponseMessage } from '../../formats/openai/chat-response.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { isRecord, readString, readTokenCounts, toChatCompletionId, toOpenAIUsage } from './upstream-fields.js';

export interface AnthropicToOpenAIResponseContext {
  /**
   * The model name when the upstream reports none: the provider's model name. Answers carry the
   * name the upstream reports (docs/configuration.md, "Model names in answers").
   */
  model: string;
  /** Unix time in seconds, injected so the translator stays pure and tests deterministic. */
  created: number;
}

const finishReasonByStopReason: Record<string, OpenAIFinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  // pause_turn: a server tool paused a long turn. An OpenAI client cannot resume it, so the answer
  // so far is presented as finished.
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/**
 * Anthropic `stop_reason` → OpenAI `finish_reason`: end_turn, stop_sequence and pause_turn → stop;
 * max_tokens and model_context_window_exceeded → length; tool_use → tool_calls; refusal →
 * content_filter. null/undefined (still generating) → null. An unknown future reason → 'stop':
 * the turn did end, and a null finish_reason on a final answer confuses OpenAI clients more than
 * a generic one.
 */
export function mapAnthropicStopReason(reason: string | null | undefined): OpenAIFinishReason | null {
  if (reason === null || reason === undefined) return null;
  return Object.hasOwn(finishReasonByStopReason, reason) ? (finishReasonByStopReason[reason] ?? 'stop') : 'stop';
}

type ToolCall = NonNullable<OpenAIResponseMessage['tool_calls']>[number];

/**
 * Translates a non-streaming Anthropic Messages response body into an OpenAI chat completion.
 *
 * Read leniently: any field may be missing. Only a body without a `content` array is unusable
 * (GW_UPSTREAM_BAD_RESPONSE). Text blocks are concatenated without separators (Anthropic splits
 * one answer into several text blocks, e.g. around citations); thinking, redacted thinking and
 * server-tool blocks have no OpenAI counterpart and are dropped. `usage` is omitted, not zeroed,
 * when the upstream sent none, so usage accounting can tell "unknown" from "free".
 */
export function translateAnthropicResponseToOpenAI(body: unknown, context: AnthropicToOpenAIResponseContext): OpenAIChatResponse {
  const content = isRecord(body) ? body['content'] : undefined;
  if (!isRecord(body) || !Array.isArray(content)) {
    throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message: 'The Anthropic upstream sent a response without a content array.' });
  }

  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of content) {
    if (!isRecord(block)) continue;
    const type = readString(block, 'type');
    if (type === 'text') {
      texts.push(readString(block, 'text') ?? '');
    } else if (type === 'tool_use') {
      const id = readString(block, 'id');
      const name = readString(block, 'name');
      if (id === undefined || name === undefined) continue;
      // OpenAI clients parse `arguments` as a JSON object: anything else in `input` reads as none.
      const input = isRecord(block['input']) ? block['input'] : {};
      toolCalls.push({ id, type: 'function', function: { name, arguments: JSON.stringify(input) } });
    }
  }

  const text = texts.join('');
  const message: OpenAIResponseMessage = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;

  const response: OpenAIChatResponse = {
    id: toChatCompletionId(readString(body, 'id'), context.created),
    object: 'chat.completion',
    created: context.created,
    model: readString(body, 'model') || context.model,
    choices: [{ index: 0, message, finish_reason: mapAnthropicStopReason(readString(body, 'stop_reason')), logprobs: null }],
  };
  if (isRecord(body['usage'])) response.usage = toOpenAIUsage(readTokenCounts(body['usage']));
  return response;
}
