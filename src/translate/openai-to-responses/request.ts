import { GatewayError } from '../../errors/gateway-error.js';
import { boundedIdentifier, toolCallIdMaxLength, toolNameMaxLength, userIdMaxLength } from '../../formats/client-strings.js';
import type { OpenAIChatRequest, OpenAIContentPart, OpenAIMessage } from '../../formats/openai/chat-request.js';
import type { ResponsesContentPart, ResponsesInputItem, ResponsesRequest, ResponsesTool } from '../../formats/responses/request.js';

export interface OpenAIToResponsesRequestOptions {
  /** The model id the upstream knows. */
  upstreamModel: string;
}

function unsupported(message: string): GatewayError {
  return new GatewayError('GW_UNSUPPORTED_CONTENT', { message });
}

/**
 * Translates a (schema-validated) chat completion request into a Responses request for a Responses
 * upstream (the `codex` provider type: api.openai.com/v1/responses or the ChatGPT Codex backend).
 * Pure.
 *
 * - the leading system/developer messages → `instructions` (the Codex backend requires it); later
 *   ones → `developer` messages in place.
 * - user text and images → `input_text` / `input_image`; assistant text → an assistant message with
 *   `output_text`; `tool_calls` → `function_call` items (their ids as `call_id`); `tool` messages →
 *   `function_call_output`.
 * - `max_tokens` / `max_completion_tokens` → `max_output_tokens`; `response_format` → `text.format`.
 * - always `stream: true` and `store: false`: the ChatGPT backend accepts nothing else, and the
 *   gateway stores nothing; a non-streamed client gets the answer built from `response.completed`.
 * - refused (no counterpart): `n` > 1, `stop`, logprobs.
 */
export function translateOpenAIRequestToResponses(request: OpenAIChatRequest, options: OpenAIToResponsesRequestOptions): ResponsesRequest {
  if (request.n !== undefined && request.n !== null && request.n > 1) throw unsupported(`n=${request.n} cannot be sent to a Responses upstream: it returns one answer.`);
  if (request.stop !== undefined && request.stop !== null && request.stop.length > 0) throw unsupported('stop cannot be sent to a Responses upstream: the Responses API has no stop sequences.');
  const extra = request as Record<string, unknown>;
  if (extra['logprobs'] === true) throw unsupported('logprobs cannot be sent to a Responses upstream by this gateway.');

  const instructions: string[] = [];
  const input: ResponsesInputItem[] = [];
  let leading = true;
  request.messages.forEach((message, index) => {
    const where = `messages[${index}]`;
    if (message.role === 'system' || message.role === 'developer') {
      const text = textOf(message.content, where);
      if (leading) instructions.push(text);
      else input.push({ type: 'message', role: 'developer', content: [{ type: 'input_text', text }] });
      return;
    }
    leading = false;
    input.push(...itemsOf(message, where));
  });
  const result: ResponsesRequest = { model: options.upstreamModel, input, stream: true, store: false };
  if (instructions.length > 0) result.instructions = instructions.join('\n\n');
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) result.max_output_tokens = maxTokens;
  if (request.temperature !== undefined && request.temperature !== null) result.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) result.top_p = request.top_p;
  if (request.user !== undefined) result.user = boundedIdentifier(request.user, 'user', userIdMaxLength);
  if (request.tools !== undefined && request.tools.length > 0) {
    result.tools = request.tools.map(
      (tool, index): ResponsesTool => ({
        type: 'function',
        name: boundedIdentifier(tool.function.name, `tools[${index}].function.name`, toolNameMaxLength),
        ...(tool.function.description === undefined ? {} : { description: tool.function.description }),
        parameters: tool.function.parameters ?? { type: 'object', properties: {} },
        strict: tool.function.strict ?? false,
      }),
    );
    const choice = request.tool_choice;
    if (choice !== undefined) result.tool_choice = typeof choice === 'string' ? choice : { type: 'function', name: boundedIdentifier(choice.function.name, 'tool_choice.function.name', toolNameMaxLength) };
    if (request.parallel_tool_calls !== undefined) result.parallel_tool_calls = request.parallel_tool_calls;
  }
  const format = textFormatOf(extra['response_format']);
  if (format !== undefined) result.text = { format };
  return result;
}

function textOf(content: string | OpenAIContentPart[] | null | undefined, where: string): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, index) => {
      if (part.type === 'text') return (part as { text: string }).text;
      throw unsupported(`${where}.content[${index}]: a '${part.type.slice(0, 64)}' part can only be text here.`);
    })
    .join('');
}

function itemsOf(message: OpenAIMessage, where: string): ResponsesInputItem[] {
  if (message.role === 'user') {
    const content = message.content;
    if (typeof content === 'string' || content === null) return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: content ?? '' }] }];
    const parts = content.map((part, index): ResponsesContentPart => {
      if (part.type === 'text') return { type: 'input_text', text: (part as { text: string }).text };
      if (part.type === 'image_url') return { type: 'input_image', image_url: (part as { image_url: { url: string } }).image_url.url, detail: (part as { image_url: { detail?: string } }).image_url.detail ?? 'auto' };
      throw unsupported(`${where}.content[${index}]: a '${part.type.slice(0, 64)}' part cannot be sent to a Responses upstream by this gateway.`);
    });
    return [{ type: 'message', role: 'user', content: parts }];
  }
  if (message.role === 'tool') {
    return [{ type: 'function_call_output', call_id: boundedIdentifier(message.tool_call_id, `${where}.tool_call_id`, toolCallIdMaxLength), output: textOf(message.content, where) }];
  }
  if (message.role !== 'assistant') return [];
  const items: ResponsesInputItem[] = [];
  const text = textOf(message.content, where);
  if (text !== '') items.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
  (message.tool_calls ?? []).forEach((call, index) => {
    items.push({
      type: 'function_call',
      call_id: boundedIdentifier(call.id, `${where}.tool_calls[${index}].id`, toolCallIdMaxLength),
      name: boundedIdentifier(call.function.name, `${where}.tool_calls[${index}].function.name`, toolNameMaxLength),
      arguments: call.function.arguments,
    });
  });
  return items;
}

/** `response_format` → `text.format`: json_schema's fields move up one level, json_object stays. */
function textFormatOf(format: unknown): Record<string, unknown> | undefined {
  if (typeof format !== 'object' || format === null) return undefined;
  const { type, json_schema: jsonSchema } = format as { type?: unknown; json_schema?: unknown };
  if (type === 'json_object') return { type: 'json_object' };
  if (type === 'json_schema' && typeof jsonSchema === 'object' && jsonSchema !== null) return { type: 'json_schema', ...(jsonSchema as Record<string, unknown>) };
  return undefined;
}
