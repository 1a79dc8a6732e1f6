import { GatewayError } from '../../errors/gateway-error.js';
import type { OpenAIChatRequest, OpenAIContentPart, OpenAIMessage, OpenAIToolCall } from '../../formats/openai/chat-request.js';
import { boundedIdentifier, userIdMaxLength } from '../../formats/client-strings.js';
import { readConversation, readFunctionTools, readToolChoice } from '../../formats/responses/input-items.js';
import type { ResponsesRequest } from '../../formats/responses/request.js';

export interface ResponsesToOpenAIRequestOptions {
  /** The model id the upstream knows. */
  upstreamModel: string;
}

/**
 * Translates a (schema-validated) Responses request into an OpenAI chat completion request. Pure.
 *
 * - `instructions`, system and developer messages → `system` messages in place (developer is sent as
 *   system: OpenAI-compatible servers other than OpenAI do not all know the developer role).
 * - consecutive assistant text and `function_call` items → one assistant message with `tool_calls`;
 *   `function_call_output` → a `tool` message.
 * - `max_output_tokens` → `max_tokens` (what every OpenAI-compatible server reads).
 * - `stream: true` adds `stream_options.include_usage`, so `response.completed` carries the usage.
 * - `text.format` json_schema / json_object → `response_format`.
 * - dropped: `reasoning` (effort has no chat counterpart on every server), `store` (nothing is
 *   stored either way), `include`, `prompt_cache_key`, `client_metadata` and other unknown fields.
 */
export function translateResponsesRequestToOpenAI(request: ResponsesRequest, options: ResponsesToOpenAIRequestOptions): OpenAIChatRequest {
  const messages: OpenAIMessage[] = [];
  let assistant: { content: string; toolCalls: OpenAIToolCall[] } | undefined;
  const flushAssistant = (): void => {
    if (assistant === undefined) return;
    messages.push({ role: 'assistant', content: assistant.content === '' ? null : assistant.content, ...(assistant.toolCalls.length > 0 ? { tool_calls: assistant.toolCalls } : {}) });
    assistant = undefined;
  };
  for (const entry of readConversation(request)) {
    if (entry.kind === 'assistant' || entry.kind === 'function_call') {
      // A text message after a call starts a new assistant turn; calls after text join it.
      if (entry.kind === 'assistant' && assistant !== undefined && assistant.toolCalls.length > 0) flushAssistant();
      assistant ??= { content: '', toolCalls: [] };
      if (entry.kind === 'assistant') assistant.content += entry.text;
      else assistant.toolCalls.push({ id: entry.callId, type: 'function', function: { name: entry.name, arguments: entry.arguments === '' ? '{}' : entry.arguments } });
      continue;
    }
    flushAssistant();
    if (entry.kind === 'system') messages.push({ role: 'system', content: entry.text });
    else if (entry.kind === 'function_call_output') messages.push({ role: 'tool', tool_call_id: entry.callId, content: entry.output });
    else {
      const onlyText = entry.parts.every((part) => part.type === 'text');
      const content: string | OpenAIContentPart[] = onlyText
        ? entry.parts.map((part) => (part as { text: string }).text).join('')
        : entry.parts.map((part): OpenAIContentPart => (part.type === 'text' ? { type: 'text', text: part.text } : { type: 'image_url', image_url: { url: part.url } }));
      messages.push({ role: 'user', content });
    }
  }
  flushAssistant();
  if (messages.length === 0) throw new GatewayError('GW_INVALID_REQUEST', { message: 'Invalid request: input must hold at least one message.' });

  const result: OpenAIChatRequest = { model: options.upstreamModel, messages };
  if (request.max_output_tokens !== undefined && request.max_output_tokens !== null) result.max_tokens = request.max_output_tokens;
  if (request.temperature !== undefined && request.temperature !== null) result.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) result.top_p = request.top_p;
  if (request.user !== undefined) result.user = boundedIdentifier(request.user, 'user', userIdMaxLength);
  const tools = readFunctionTools(request);
  if (tools.length > 0) {
    result.tools = tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        parameters: tool.parameters,
        ...(tool.strict === undefined ? {} : { strict: tool.strict }),
      },
    }));
    const choice = readToolChoice(request);
    if (choice !== undefined) result.tool_choice = typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
    if (typeof request.parallel_tool_calls === 'boolean') result.parallel_tool_calls = request.parallel_tool_calls;
  }
  const format = responseFormatOf(request.text);
  if (format !== undefined) (result as Record<string, unknown>)['response_format'] = format;
  if (request.stream === true) {
    result.stream = true;
    result.stream_options = { include_usage: true };
  }
  return result;
}

/** `text.format` → chat's `response_format`; `text` (the default) → nothing. */
function responseFormatOf(text: Record<string, unknown> | null | undefined): Record<string, unknown> | undefined {
  const format = text?.['format'];
  if (typeof format !== 'object' || format === null) return undefined;
  const { type, name, schema, strict, description } = format as Record<string, unknown>;
  if (type === 'json_object') return { type: 'json_object' };
  if (type !== 'json_schema') return undefined;
  return { type: 'json_schema', json_schema: { name, schema, ...(strict === undefined ? {} : { strict }), ...(description === undefined ? {} : { description }) } };
}
