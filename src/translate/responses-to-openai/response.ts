import { GatewayError } from '../../errors/gateway-error.js';
import {
  count,
  functionCallOutput,
  isRecord,
  messageItemId,
  messageOutput,
  responsesObject,
  responsesUsage,
  type ResponsesAnswerContext,
  type ResponsesObject,
  type ResponsesOutputItem,
  type ResponsesUsage,
} from '../../formats/responses/response-builder.js';

/** OpenAI `usage` → Responses `usage`; null when the upstream sent none (unknown is not zero). */
export function toResponsesUsage(usage: unknown): ResponsesUsage | null {
  if (!isRecord(usage)) return null;
  const prompt = isRecord(usage['prompt_tokens_details']) ? usage['prompt_tokens_details'] : {};
  const completion = isRecord(usage['completion_tokens_details']) ? usage['completion_tokens_details'] : {};
  return responsesUsage(count(usage, 'prompt_tokens'), count(usage, 'completion_tokens'), count(prompt, 'cached_tokens'), count(completion, 'reasoning_tokens'));
}

/**
 * `finish_reason` → why a response is incomplete: length → `max_output_tokens`, content_filter →
 * `content_filter`; every other reason (stop, tool_calls) completes it.
 */
export function incompleteReasonOf(finishReason: unknown): string | undefined {
  if (finishReason === 'length') return 'max_output_tokens';
  if (finishReason === 'content_filter') return 'content_filter';
  return undefined;
}

/**
 * Translates a non-streamed chat completion into a Responses `response` object: the message text
 * becomes one message item with an output_text part, each tool call a function_call item (its id
 * as `call_id`, empty arguments as `{}`). Lenient: only a body without `choices` is unusable.
 */
export function translateOpenAIResponseToResponses(body: unknown, context: ResponsesAnswerContext): ResponsesObject {
  const choices = isRecord(body) ? body['choices'] : undefined;
  if (!isRecord(body) || !Array.isArray(choices)) {
    throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message: 'The OpenAI upstream sent a response without a choices array.' });
  }
  const choice: unknown = choices[0];
  const message = isRecord(choice) && isRecord(choice['message']) ? choice['message'] : {};
  const output: ResponsesOutputItem[] = [];
  const text = typeof message['content'] === 'string' ? message['content'] : typeof message['refusal'] === 'string' ? message['refusal'] : '';
  if (text !== '') output.push(messageOutput(messageItemId(context.responseId, 0), text));
  if (Array.isArray(message['tool_calls'])) {
    for (const call of message['tool_calls']) {
      const fn = isRecord(call) ? call['function'] : undefined;
      if (!isRecord(call) || !isRecord(fn) || typeof fn['name'] !== 'string') continue;
      const args = typeof fn['arguments'] === 'string' && fn['arguments'] !== '' ? fn['arguments'] : '{}';
      output.push(functionCallOutput(typeof call['id'] === 'string' ? call['id'] : `call_${output.length}`, fn['name'], args));
    }
  }
  const incompleteReason = incompleteReasonOf(isRecord(choice) ? choice['finish_reason'] : undefined);
  return responsesObject(context, {
    model: typeof body['model'] === 'string' ? body['model'] : context.model,
    status: incompleteReason === undefined ? 'completed' : 'incomplete',
    output,
    usage: toResponsesUsage(body['usage']),
    ...(incompleteReason === undefined ? {} : { incompleteReason }),
  });
}
