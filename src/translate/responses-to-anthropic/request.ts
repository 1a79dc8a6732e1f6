import { GatewayError } from '../../errors/gateway-error.js';
import type { AnthropicContentBlock, AnthropicMessage, AnthropicMessagesRequest, AnthropicToolChoice } from '../../formats/anthropic/messages-request.js';
import { boundedIdentifier, userIdMaxLength } from '../../formats/client-strings.js';
import { readConversation, readFunctionTools, readToolChoice, type ConversationPart } from '../../formats/responses/input-items.js';
import type { ResponsesRequest } from '../../formats/responses/request.js';

export interface ResponsesToAnthropicRequestOptions {
  /** The model id the upstream knows. */
  upstreamModel: string;
  /** Tokens. Anthropic requires max_tokens; Responses clients (Codex CLI) usually leave max_output_tokens out. */
  defaultMaxTokens: number;
}

/**
 * Translates a (schema-validated) Responses request into an Anthropic Messages request. Pure.
 *
 * - `instructions`, system and developer messages → `system` (joined with a blank line, in order:
 *   Anthropic has one system prompt, not system turns).
 * - user messages → text and image blocks (a data URL becomes a base64 source, any other URL a url
 *   source); assistant text and `function_call` items → one assistant message with text and
 *   tool_use blocks (arguments parsed: they must be a JSON object); `function_call_output` →
 *   tool_result blocks, first in the user message that follows.
 * - `max_output_tokens` → `max_tokens` (else `upstream.default_max_tokens`); `temperature` above
 *   Anthropic's 0..1 → 400, not a clamp; `required` → `any`; `parallel_tool_calls: false` →
 *   `disable_parallel_tool_use`; `user` → `metadata.user_id`.
 * - `text.format` json_schema / json_object → 400 GW_UNSUPPORTED_CONTENT (no faithful counterpart).
 * - dropped: `reasoning`, `store`, `include`, `prompt_cache_key`, other unknown fields.
 */
export function translateResponsesRequestToAnthropic(request: ResponsesRequest, options: ResponsesToAnthropicRequestOptions): AnthropicMessagesRequest {
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  const append = (role: 'user' | 'assistant', blocks: AnthropicContentBlock[]): void => {
    const last = messages[messages.length - 1];
    if (last !== undefined && last.role === role && Array.isArray(last.content)) {
      // Tool results lead their user message (Anthropic requires them before other blocks).
      if (role === 'user' && blocks.every((block) => block.type === 'tool_result')) {
        const results = last.content.filter((block) => block.type === 'tool_result').length;
        last.content.splice(results, 0, ...blocks);
      } else last.content.push(...blocks);
      return;
    }
    messages.push({ role, content: blocks });
  };
  readConversation(request).forEach((entry) => {
    switch (entry.kind) {
      case 'system':
        system.push(entry.text);
        return;
      case 'user':
        append('user', entry.parts.map(userBlock).filter((block) => block.type !== 'text' || (block as { text: string }).text !== ''));
        return;
      case 'assistant':
        if (entry.text !== '') append('assistant', [{ type: 'text', text: entry.text }]);
        return;
      case 'function_call':
        append('assistant', [{ type: 'tool_use', id: entry.callId, name: entry.name, input: argumentsObject(entry.arguments, entry.callId) }]);
        return;
      case 'function_call_output':
        append('user', [{ type: 'tool_result', tool_use_id: entry.callId, content: entry.output }]);
        return;
    }
  });
  const nonEmpty = messages.filter((message) => !Array.isArray(message.content) || message.content.length > 0);
  if (nonEmpty.length === 0) throw new GatewayError('GW_INVALID_REQUEST', { message: 'Invalid request: input must hold at least one message with content.' });

  const result: AnthropicMessagesRequest = { model: options.upstreamModel, messages: nonEmpty, max_tokens: request.max_output_tokens ?? options.defaultMaxTokens };
  if (system.length > 0) result.system = system.join('\n\n');
  if (request.temperature !== undefined && request.temperature !== null) {
    if (request.temperature > 1) {
      throw new GatewayError('GW_INVALID_REQUEST', { message: `Invalid request: temperature must be between 0 and 1 for this model (its upstream is Anthropic, whose range is 0..1); got ${request.temperature}.` });
    }
    result.temperature = request.temperature;
  }
  if (request.top_p !== undefined && request.top_p !== null) result.top_p = request.top_p;
  if (request.user !== undefined) result.metadata = { user_id: boundedIdentifier(request.user, 'user', userIdMaxLength) };
  const tools = readFunctionTools(request);
  if (tools.length > 0) {
    result.tools = tools.map((tool) => ({ name: tool.name, ...(tool.description === undefined ? {} : { description: tool.description }), input_schema: tool.parameters }));
    const choice = toolChoiceOf(readToolChoice(request), request.parallel_tool_calls === false);
    if (choice !== undefined) result.tool_choice = choice;
  }
  const formatType = (request.text?.['format'] as { type?: unknown } | undefined)?.type;
  if (formatType === 'json_schema' || formatType === 'json_object') {
    throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `text.format ${formatType} cannot be translated for this model's upstream (Anthropic).` });
  }
  if (request.stream === true) result.stream = true;
  return result;
}

function userBlock(part: ConversationPart): AnthropicContentBlock {
  if (part.type === 'text') return { type: 'text', text: part.text };
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(part.url);
  if (data !== null) return { type: 'image', source: { type: 'base64', media_type: data[1] as string, data: data[2] as string } };
  return { type: 'image', source: { type: 'url', url: part.url } };
}

/** A function call's arguments as a tool_use input: a JSON object (empty text is `{}`), else a 400. */
function argumentsObject(text: string, callId: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // refused below
  }
  throw new GatewayError('GW_INVALID_REQUEST', { message: `Invalid request: the arguments of function_call '${callId}' are not a JSON object.` });
}

function toolChoiceOf(choice: ReturnType<typeof readToolChoice>, noParallel: boolean): AnthropicToolChoice | undefined {
  const parallel = noParallel ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return noParallel ? { type: 'auto', ...parallel } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...parallel };
  if (choice === 'required') return { type: 'any', ...parallel };
  return { type: 'tool', name: choice.name, ...parallel };
}
