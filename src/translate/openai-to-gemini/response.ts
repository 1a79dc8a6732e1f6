import type { OpenAIChatResponse, OpenAIFinishReason, OpenAIResponseMessage, OpenAIUsage } from '../../formats/openai/chat-response.js';
import { geminiCallId, readGeminiAnswer, turnEnd, type GeminiUsageCounts } from '../../formats/gemini/upstream-answer.js';

export interface GeminiToOpenAIResponseContext {
  /** The model name when the upstream reports none (the provider's model name). */
  model: string;
  /** Seconds since the epoch. */
  created: number;
  /** Names the answer when Gemini sends no responseId (the gateway's request id). */
  requestId: string;
}

/** Gemini usage → OpenAI usage: thinking tokens count as completion tokens and are named in the details. */
export function toOpenAIUsage(usage: GeminiUsageCounts): OpenAIUsage {
  const result: OpenAIUsage = { prompt_tokens: usage.promptTokens, completion_tokens: usage.outputTokens, total_tokens: usage.promptTokens + usage.outputTokens };
  if (usage.cachedTokens > 0) result.prompt_tokens_details = { cached_tokens: usage.cachedTokens };
  if (usage.thoughtTokens > 0) result.completion_tokens_details = { reasoning_tokens: usage.thoughtTokens };
  return result;
}

/** The assistant message fields, with Gemini's thinking as `reasoning_content` (the field DeepSeek and others use; the SDK passes it through). */
export type OpenAIMessageWithReasoning = OpenAIResponseMessage & { reasoning_content?: string };

/**
 * Translates a non-streamed Gemini answer into an OpenAI chat completion. Pure. Function calls
 * become tool calls with stable synthesised ids (geminiCallId), which carry a call's
 * thoughtSignature back to Gemini on the next turn; thought parts become `reasoning_content`.
 * An answer that is not a Gemini answer is GW_UPSTREAM_BAD_RESPONSE (502).
 */
export function translateGeminiResponseToOpenAI(body: unknown, context: GeminiToOpenAIResponseContext): OpenAIChatResponse {
  const answer = readGeminiAnswer(body, 'answer');
  const seed = answer.responseId ?? context.requestId;
  let content = '';
  let reasoning = '';
  const toolCalls: NonNullable<OpenAIResponseMessage['tool_calls']> = [];
  for (const part of answer.parts) {
    if (part.kind === 'text') content += part.text;
    else if (part.kind === 'thought') reasoning += part.text;
    else {
      const index = toolCalls.length;
      toolCalls.push({ id: geminiCallId(seed, index, part.name, part.args, part.signature), type: 'function', function: { name: part.name, arguments: JSON.stringify(part.args) } });
    }
  }
  const message: OpenAIMessageWithReasoning = { role: 'assistant', content: content === '' && toolCalls.length > 0 ? null : content };
  if (reasoning !== '') message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const finishReason: OpenAIFinishReason = turnEnd(answer.finishReason ?? 'STOP', toolCalls.length > 0);
  const response: OpenAIChatResponse = {
    id: answer.responseId ?? `chatcmpl-${context.requestId}`,
    object: 'chat.completion',
    created: context.created,
    model: answer.modelVersion ?? context.model,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
  };
  if (answer.usage !== undefined) response.usage = toOpenAIUsage(answer.usage);
  return response;
}
