import { GatewayError } from '../../errors/gateway-error.js';
import { boundedIdentifier, toolCallIdMaxLength, toolNameMaxLength } from '../client-strings.js';
import type { ResponsesContentPart, ResponsesRequest } from './request.js';

/**
 * The Responses input read once into a neutral conversation, shared by the two translators that
 * send a Responses request elsewhere (responses-to-openai, responses-to-anthropic): the item walk,
 * the refusals and the bounds are one rule, and each translator only maps entries to its upstream's
 * messages. Pure.
 *
 * - `instructions` and system/developer messages → system entries (text only).
 * - user messages → text and image parts; assistant messages → text (output_text, refusal).
 * - `function_call` / `function_call_output` keep their `call_id` (bounded like every translated id).
 * - `reasoning` items are dropped: their `encrypted_content` is sealed for OpenAI and is never
 *   replayed to another provider, and the summary is not part of the conversation.
 * - any other item type (`local_shell_call`, `item_reference`, `web_search_call`, …), a
 *   `previous_response_id` (the gateway stores no response) and content parts other than text and
 *   images: 400 `GW_UNSUPPORTED_CONTENT` naming what cannot be translated.
 */
export type ConversationPart = { type: 'text'; text: string } | { type: 'image'; url: string };

export type ConversationEntry =
  | { kind: 'system'; text: string }
  | { kind: 'user'; parts: ConversationPart[] }
  | { kind: 'assistant'; text: string }
  | { kind: 'function_call'; callId: string; name: string; arguments: string }
  | { kind: 'function_call_output'; callId: string; output: string };

function unsupported(message: string): GatewayError {
  return new GatewayError('GW_UNSUPPORTED_CONTENT', { message });
}

function textOf(part: ResponsesContentPart, where: string): string {
  if (part.type === 'input_text' || part.type === 'output_text') return (part as { text: string }).text;
  if (part.type === 'refusal') return (part as { refusal: string }).refusal;
  throw unsupported(`${where}: a '${part.type.slice(0, 64)}' content part cannot be translated for this model's upstream; only text${where.includes('user') ? ' and images' : ''}.`);
}

function userParts(content: string | ResponsesContentPart[], where: string): ConversationPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((part, index): ConversationPart => {
    if (part.type === 'input_image') {
      const url = (part as { image_url?: string | null }).image_url;
      if (typeof url !== 'string' || url === '') throw unsupported(`${where}.content[${index}]: an input_image without image_url (a file_id) cannot be translated; send the image as a URL or data URL.`);
      return { type: 'image', url };
    }
    return { type: 'text', text: textOf(part, `${where}.content[${index}]`) };
  });
}

function joinedText(content: string | ResponsesContentPart[], where: string): string {
  if (typeof content === 'string') return content;
  return content.map((part, index) => textOf(part, `${where}.content[${index}]`)).join('');
}

/** The conversation of a Responses request, in order; refuses what cannot be translated. */
export function readConversation(request: ResponsesRequest): ConversationEntry[] {
  if (typeof request.previous_response_id === 'string') {
    throw unsupported('previous_response_id cannot be used with this model: the gateway stores no responses. Send the whole conversation in input (as Codex CLI does with store: false).');
  }
  const entries: ConversationEntry[] = [];
  if (typeof request.instructions === 'string' && request.instructions !== '') entries.push({ kind: 'system', text: request.instructions });
  if (typeof request.input === 'string') {
    entries.push({ kind: 'user', parts: [{ type: 'text', text: request.input }] });
    return entries;
  }
  request.input.forEach((item, index) => {
    const where = `input[${index}]`;
    const type = (item as { type?: string }).type ?? 'message';
    switch (type) {
      case 'message': {
        const message = item as { role: string; content: string | ResponsesContentPart[] };
        if (message.role === 'system' || message.role === 'developer') entries.push({ kind: 'system', text: joinedText(message.content, where) });
        else if (message.role === 'assistant') entries.push({ kind: 'assistant', text: joinedText(message.content, where) });
        else entries.push({ kind: 'user', parts: userParts(message.content, `${where} (user)`) });
        return;
      }
      case 'function_call': {
        const call = item as { call_id: string; name: string; arguments: string };
        entries.push({
          kind: 'function_call',
          callId: boundedIdentifier(call.call_id, `${where}.call_id`, toolCallIdMaxLength),
          name: boundedIdentifier(call.name, `${where}.name`, toolNameMaxLength),
          arguments: call.arguments,
        });
        return;
      }
      case 'function_call_output': {
        const output = item as { call_id: string; output: string | ResponsesContentPart[] };
        entries.push({ kind: 'function_call_output', callId: boundedIdentifier(output.call_id, `${where}.call_id`, toolCallIdMaxLength), output: joinedText(output.output, `${where}.output`) });
        return;
      }
      case 'reasoning':
        return;
      default:
        throw unsupported(`${where}: an item of type '${type.slice(0, 64)}' cannot be translated for this model's upstream (text messages, function_call, function_call_output and reasoning can).`);
    }
  });
  return entries;
}

/** A function tool as both upstreams need it. */
export interface FunctionToolSpec {
  name: string;
  description: string | undefined;
  parameters: Record<string, unknown>;
  strict: boolean | undefined;
}

/** The function tools; a hosted or custom tool (`web_search`, `custom`, `namespace`, …) is refused by type. */
export function readFunctionTools(request: ResponsesRequest): FunctionToolSpec[] {
  return (request.tools ?? []).map((tool, index) => {
    if (tool.type !== 'function') {
      throw unsupported(`tools[${index}]: a '${tool.type.slice(0, 64)}' tool cannot be translated for this model's upstream; only function tools can (turn the tool off in the client, e.g. Codex CLI's web_search).`);
    }
    const fn = tool as { name: string; description?: string | null; parameters?: Record<string, unknown> | null; strict?: boolean | null };
    return {
      name: boundedIdentifier(fn.name, `tools[${index}].name`, toolNameMaxLength),
      description: fn.description ?? undefined,
      parameters: fn.parameters ?? { type: 'object', properties: {} },
      strict: fn.strict ?? undefined,
    };
  });
}

/** tool_choice, normalised: a forced function by name, or one of the three modes; hosted-tool choices refused. */
export function readToolChoice(request: ResponsesRequest): 'auto' | 'none' | 'required' | { name: string } | undefined {
  const choice = request.tool_choice;
  if (choice === undefined) return undefined;
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function') return { name: boundedIdentifier((choice as { name: string }).name, 'tool_choice.name', toolNameMaxLength) };
  throw unsupported(`tool_choice of type '${String(choice.type).slice(0, 64)}' cannot be translated for this model's upstream.`);
}
