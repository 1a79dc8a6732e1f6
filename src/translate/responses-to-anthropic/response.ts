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

/**
 * Anthropic `usage` → Responses `usage`. Anthropic's `input_tokens` leaves out the cached part
 * (cache reads and writes are counted apart); Responses' `input_tokens` includes it, with the reads
 * repeated in `cached_tokens`. Null when the upstream sent none.
 */
export function toResponsesUsage(usage: Record<string, unknown> | undefined): ResponsesUsage | null {
  if (usage === undefined) return null;
  const cacheRead = count(usage, 'cache_read_input_tokens');
  return responsesUsage(count(usage, 'input_tokens') + cacheRead + count(usage, 'cache_creation_input_tokens'), count(usage, 'output_tokens'), cacheRead);
}

/** `stop_reason` → why a response is incomplete: max_tokens → `max_output_tokens`, refusal → `content_filter`. */
export function incompleteReasonOf(stopReason: unknown): string | undefined {
  if (stopReason === 'max_tokens') return 'max_output_tokens';
  if (stopReason === 'refusal') return 'content_filter';
  return undefined;
}

/**
 * Translates a non-streamed Anthropic message into a Responses `response` object: consecutive
 * text blocks become one message item, each tool_use block a function_call item (its id as
 * `call_id`, its input as JSON text). Thinking blocks are not passed on (their signatures are
 * Anthropic's; a Responses client could not send them back). Lenient: only a body without a
 * `content` array is unusable.
 */
export function translateAnthropicResponseToResponses(body: unknown, context: ResponsesAnswerContext): ResponsesObject {
  const content = isRecord(body) ? body['content'] : undefined;
  if (!isRecord(body) || !Array.isArray(content)) {
    throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message: 'The Anthropic upstream sent a response without a content array.' });
  }
  const output: ResponsesOutputItem[] = [];
  let text: string | undefined;
  const closeText = (): void => {
    if (text !== undefined && text !== '') output.push(messageOutput(messageItemId(context.responseId, output.length), text));
    text = undefined;
  };
  for (const block of content) {
    if (!isRecord(block)) continue;
    if (block['type'] === 'text' && typeof block['text'] === 'string') text = (text ?? '') + block['text'];
    else if (block['type'] === 'tool_use' && typeof block['id'] === 'string' && typeof block['name'] === 'string') {
      closeText();
      output.push(functionCallOutput(block['id'], block['name'], JSON.stringify(isRecord(block['input']) ? block['input'] : {})));
    }
  }
  closeText();
  const incompleteReason = incompleteReasonOf(body['stop_reason']);
  return responsesObject(context, {
    model: typeof body['model'] === 'string' ? body['model'] : context.model,
    status: incompleteReason === undefined ? 'completed' : 'incomplete',
    output,
    usage: toResponsesUsage(isRecord(body['usage']) ? body['usage'] : undefined),
    ...(incompleteReason === undefined ? {} : { incompleteReason }),
  });
}
