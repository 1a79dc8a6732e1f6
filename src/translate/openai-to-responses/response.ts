import { GatewayError } from '../../errors/gateway-error.js';
import { count, isRecord } from '../../formats/responses/response-builder.js';

export interface ResponsesToOpenAIAnswerContext {
  /** The model name when the upstream reports none. */
  model: string;
  /** Seconds since the epoch, for `created`. */
  created: number;
}

/** Responses `usage` → chat `usage` (cached and reasoning tokens in their details); undefined when absent. */
export function toChatUsage(usage: unknown): Record<string, unknown> | undefined {
  if (!isRecord(usage)) return undefined;
  const input = count(usage, 'input_tokens');
  const output = count(usage, 'output_tokens');
  const inputDetails = isRecord(usage['input_tokens_details']) ? usage['input_tokens_details'] : {};
  const outputDetails = isRecord(usage['output_tokens_details']) ? usage['output_tokens_details'] : {};
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: count(usage, 'total_tokens') || input + output,
    prompt_tokens_details: { cached_tokens: count(inputDetails, 'cached_tokens') },
    completion_tokens_details: { reasoning_tokens: count(outputDetails, 'reasoning_tokens') },
  };
}

/**
 * Why the turn ended, as chat says it: a function call → `tool_calls`; an incomplete response →
 * `length` for max_output_tokens, `content_filter` for content_filter; otherwise `stop`.
 */
export function finishReasonOf(response: Record<string, unknown>, sawFunctionCall: boolean): string {
  const reason = isRecord(response['incomplete_details']) ? response['incomplete_details']['reason'] : undefined;
  if (reason === 'max_output_tokens') return 'length';
  if (reason === 'content_filter') return 'content_filter';
  return sawFunctionCall ? 'tool_calls' : 'stop';
}

/** `chatcmpl-` + the response id without its `resp_` prefix: the same answer keeps one id on both sides. */
export function completionIdOf(response: Record<string, unknown>): string {
  return `chatcmpl-${typeof response['id'] === 'string' ? response['id'].replace(/^resp_/, '') : 'responses'}`;
}

/**
 * Translates a Responses `response` object (a non-streamed answer, or the one `response.completed`
 * carries) into a chat completion: the text of every message item's output_text parts joined, each
 * function_call item a tool call (`call_id` as its id). Reasoning items are not passed on (their
 * encrypted content is OpenAI's). A failed response is GW_UPSTREAM_ERROR with its message.
 */
export function translateResponsesResponseToOpenAI(body: unknown, context: ResponsesToOpenAIAnswerContext): Record<string, unknown> {
  if (!isRecord(body) || !Array.isArray(body['output'])) {
    throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message: 'The Responses upstream sent a response without an output array.' });
  }
  if (body['status'] === 'failed') {
    const error = isRecord(body['error']) ? body['error'] : {};
    throw new GatewayError('GW_UPSTREAM_ERROR', { message: typeof error['message'] === 'string' ? error['message'] : 'The Responses upstream reported a failed response.' });
  }
  let text = '';
  const toolCalls: Record<string, unknown>[] = [];
  for (const item of body['output']) {
    if (!isRecord(item)) continue;
    if (item['type'] === 'message' && Array.isArray(item['content'])) {
      for (const part of item['content']) if (isRecord(part) && part['type'] === 'output_text' && typeof part['text'] === 'string') text += part['text'];
    } else if (item['type'] === 'function_call' && typeof item['name'] === 'string') {
      const args = typeof item['arguments'] === 'string' && item['arguments'] !== '' ? item['arguments'] : '{}';
      toolCalls.push({ id: typeof item['call_id'] === 'string' ? item['call_id'] : `call_${toolCalls.length}`, type: 'function', function: { name: item['name'], arguments: args } });
    }
  }
  const message: Record<string, unknown> = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, refusal: null };
  if (toolCalls.length > 0) message['tool_calls'] = toolCalls;
  const usage = toChatUsage(body['usage']);
  return {
    id: completionIdOf(body),
    object: 'chat.completion',
    created: typeof body['created_at'] === 'number' ? body['created_at'] : context.created,
    model: typeof body['model'] === 'string' ? body['model'] : context.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasonOf(body, toolCalls.length > 0) }],
    ...(usage === undefined ? {} : { usage }),
  };
}
