import type { AnthropicMessagesResponse, AnthropicResponseBlock, AnthropicStopReason, AnthropicUsage } from '../../formats/anthropic/messages-response.js';
import { geminiCallId, readGeminiAnswer, turnEnd, type GeminiUsageCounts, type TurnEnd } from '../../formats/gemini/upstream-answer.js';

export interface GeminiToAnthropicResponseContext {
  /** The model name when the upstream reports none. */
  model: string;
  /** Names the message when Gemini sends no responseId (the gateway's request id). */
  requestId: string;
}

const stopReasonByEnd: Readonly<Record<TurnEnd, AnthropicStopReason>> = { stop: 'end_turn', tool_calls: 'tool_use', length: 'max_tokens', content_filter: 'refusal' };

/** How a Gemini turn ended, as Anthropic's stop_reason. */
export function anthropicStopReason(finishReason: string, hasCalls: boolean): AnthropicStopReason {
  return stopReasonByEnd[turnEnd(finishReason, hasCalls)];
}

/** Gemini usage → Anthropic usage: Anthropic's input_tokens exclude cache reads, Gemini's promptTokenCount includes them. */
export function toAnthropicUsage(usage: GeminiUsageCounts | undefined): AnthropicUsage {
  if (usage === undefined) return { input_tokens: 0, output_tokens: 0 };
  const result: AnthropicUsage = { input_tokens: Math.max(0, usage.promptTokens - usage.cachedTokens), output_tokens: usage.outputTokens };
  if (usage.cachedTokens > 0) result.cache_read_input_tokens = usage.cachedTokens;
  return result;
}

/** The message id: Gemini's responseId when it sent one, else the request's. */
export function messageId(responseId: string | undefined, requestId: string): string {
  return `msg_${(responseId ?? requestId).replace(/[^A-Za-z0-9_-]/g, '')}`;
}

/**
 * Translates a non-streamed Gemini answer into an Anthropic message. Pure. Text parts → text
 * blocks, thought parts → thinking blocks (with no signature: Gemini's is not Anthropic's, and
 * the translation back drops thinking blocks anyway), function calls → tool_use blocks with stable
 * synthesised ids (which carry a call's thoughtSignature back to Gemini). An answer that is not a
 * Gemini answer is GW_UPSTREAM_BAD_RESPONSE (502).
 */
export function translateGeminiResponseToAnthropic(body: unknown, context: GeminiToAnthropicResponseContext): AnthropicMessagesResponse {
  const answer = readGeminiAnswer(body, 'answer');
  const seed = answer.responseId ?? context.requestId;
  const content: AnthropicResponseBlock[] = [];
  let calls = 0;
  for (const part of answer.parts) {
    const last = content.at(-1);
    if (part.kind === 'text') {
      if (last?.type === 'text') last.text += part.text;
      else content.push({ type: 'text', text: part.text });
    } else if (part.kind === 'thought') {
      if (last?.type === 'thinking') last.thinking += part.text;
      else content.push({ type: 'thinking', thinking: part.text, signature: '' });
    } else {
      const index = calls++;
      content.push({ type: 'tool_use', id: geminiCallId(seed, index, part.name, part.args, part.signature), name: part.name, input: part.args });
    }
  }
  return {
    id: messageId(answer.responseId, context.requestId),
    type: 'message',
    role: 'assistant',
    model: answer.modelVersion ?? context.model,
    content,
    stop_reason: anthropicStopReason(answer.finishReason ?? 'STOP', calls > 0),
    stop_sequence: null,
    usage: toAnthropicUsage(answer.usage),
  };
}
