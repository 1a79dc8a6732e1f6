import type { AnthropicMessagesRequest, AnthropicTool, AnthropicToolChoice } from '../../formats/anthropic/messages-request.js';
import type { OpenAIChatRequest, OpenAIMessage, OpenAITool, OpenAIToolChoice } from '../../formats/openai/chat-request.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { boundedIdentifier, boundedStopSequences, toolNameMaxLength, userIdMaxLength } from '../../formats/client-strings.js';
import { textBlockSeparator, translateMessage } from './request-messages.js';

export { toolErrorPrefix } from './request-messages.js';

export interface AnthropicToOpenAIRequestOptions {
  /** The provider's own model id (after alias resolution); the client's model name is not sent. */
  upstreamModel: string;
  /**
   * A stable digest of a `metadata.user_id` too long for OpenAI's `user` (hex, at least 32
   * digits). Passed in because translators import no package, `node:crypto` included.
   */
  digestUserId: (userId: string) => string;
}

/** OpenAI refuses a `user` longer than 64 characters (`string_above_max_length`). */
export const openAIUserMaxLength = 64;
export { userIdMaxLength } from '../../formats/client-strings.js';
/** Hex digits of the digest kept in the short form: 128 bits, collisions out of reach. */
const userIdDigestHexDigits = 32;

/**
 * `metadata.user_id` → OpenAI `user`: as is up to 64 characters; a longer id (Claude Code's) becomes
 * `sha256-` + 32 hex digits of its digest, the same for the same id, so per-user tracking upstream
 * still works; over 512 characters or with a control character it is a 400 naming the field.
 */
export function openAIUserFor(userId: string, digestUserId: (userId: string) => string): string {
  boundedIdentifier(userId, 'metadata.user_id', userIdMaxLength);
  if (userId.length <= openAIUserMaxLength) return userId;
  return `sha256-${digestUserId(userId).slice(0, userIdDigestHexDigits)}`;
}

/**
 * Tool `type` values that mean "a client tool described by input_schema". Anything else
 * (`web_search_20250305`, `bash_20250124`, `text_editor_*`, `computer_*`) is a tool Anthropic runs
 * or defines itself; an OpenAI-compatible upstream has no equivalent.
 */
const clientToolTypes = new Set(['custom']);

/** An empty object schema: OpenAI wants `parameters` to be a JSON schema object. */
const emptyParameters: Record<string, unknown> = { type: 'object', properties: {} };

function translateTool(tool: AnthropicTool, position: number): OpenAITool {
  if (tool.type !== undefined && !clientToolTypes.has(tool.type)) {
    throw new GatewayError('GW_UNSUPPORTED_CONTENT', {
      message: `Tool '${tool.name}' (tools[${position}]) has type '${tool.type}': Anthropic server tools cannot run on an OpenAI-compatible upstream.`,
    });
  }
  const fields: OpenAITool['function'] = { name: tool.name, parameters: tool.input_schema ?? emptyParameters };
  if (tool.description !== undefined) fields.description = tool.description;
  return { type: 'function', function: fields };
}

/** auto → 'auto', any → 'required', none → 'none', tool → a named function. */
function translateToolChoice(choice: AnthropicToolChoice): OpenAIToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: boundedIdentifier(choice.name, 'tool_choice.name', toolNameMaxLength) } };
  }
}

/** `system` as one string: blocks joined like text blocks; cache_control has no OpenAI meaning. */
function systemText(system: AnthropicMessagesRequest['system']): string {
  if (system === undefined) return '';
  if (typeof system === 'string') return system;
  return system.map((block) => block.text).join(textBlockSeparator);
}

/**
 * Translates a validated Anthropic Messages request into an OpenAI Chat Completions request.
 *
 * Mapping decisions an operator may need to know:
 * - `system` → one leading system message (blocks joined with a blank line); a `system` message
 *   inside `messages` (Claude Code) → a system message at the same position.
 * - `metadata.user_id` → `user`, bounded to what OpenAI accepts (see openAIUserFor).
 * - Text-only content → a plain string (adjacent text blocks joined with a blank line); any image
 *   → an array of parts. Images become `image_url` parts (base64 as a `data:` URL).
 * - `tool_result` → `tool` messages placed before the rest of that user message; `is_error: true`
 *   prefixes the content with "Error: " (OpenAI has no error flag). Images inside a tool result
 *   move to the following user message (OpenAI tool messages take text only).
 * - thinking / redacted_thinking history blocks are dropped; any other unknown block type, and any
 *   server tool (a tool with a `type` other than `custom`), is refused with GW_UNSUPPORTED_CONTENT.
 * - `tool_choice` and `disable_parallel_tool_use` are sent only with a non-empty tool list: OpenAI
 *   rejects both without tools.
 * - Dropped, no OpenAI equivalent: `top_k`, `thinking`, `context_management`, `output_config`,
 *   `cache_control`, `service_tier`, other `metadata` fields, tool fields other than name,
 *   description and input_schema (`defer_loading`), and any other top-level field this translator
 *   does not name (docs/architecture.md lists them). `temperature` is copied unchanged
 *   (Anthropic's range 0-1 lies inside OpenAI's 0-2).
 * - `stream: true` adds `stream_options.include_usage`, so the final chunk carries token usage for
 *   message_delta and for the gateway's own token accounting.
 * - `max_tokens` stays `max_tokens` (not `max_completion_tokens`): it is what OpenAI-compatible
 *   servers (vLLM, Ollama, llama.cpp) understand; OpenAI still accepts it for non-reasoning models.
 */
export function translateAnthropicRequestToOpenAI(
  request: AnthropicMessagesRequest,
  options: AnthropicToOpenAIRequestOptions,
): OpenAIChatRequest {
  const messages: OpenAIMessage[] = [];
  const system = systemText(request.system);
  if (system !== '') messages.push({ role: 'system', content: system });
  request.messages.forEach((message, position) => messages.push(...translateMessage(message, position)));

  const result: OpenAIChatRequest = { model: options.upstreamModel, messages, max_tokens: request.max_tokens };
  if (request.temperature !== undefined) result.temperature = request.temperature;
  if (request.top_p !== undefined) result.top_p = request.top_p;
  if (request.stop_sequences !== undefined && request.stop_sequences.length > 0) result.stop = boundedStopSequences(request.stop_sequences, 'stop_sequences');
  const userId = request.metadata?.user_id;
  if (typeof userId === 'string' && userId !== '') result.user = openAIUserFor(userId, options.digestUserId);

  const tools = (request.tools ?? []).map(translateTool);
  if (tools.length > 0) {
    result.tools = tools;
    const choice = request.tool_choice;
    if (choice !== undefined) {
      result.tool_choice = translateToolChoice(choice);
      if (choice.type !== 'none' && choice.disable_parallel_tool_use === true) result.parallel_tool_calls = false;
    }
  }

  if (request.stream === true) {
    result.stream = true;
    result.stream_options = { include_usage: true };
  }
  return result;
}
