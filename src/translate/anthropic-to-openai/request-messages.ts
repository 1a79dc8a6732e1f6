import type { AnthropicContentBlock, AnthropicMessage } from '../../formats/anthropic/messages-request.js';
import type { OpenAIContentPart, OpenAIMessage, OpenAIToolCall } from '../../formats/openai/chat-request.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { boundedIdentifier, toolCallIdMaxLength, toolNameMaxLength } from '../../formats/client-strings.js';

/**
 * Anthropic content blocks → OpenAI chat messages. Anthropic puts tool results inside a user
 * message; OpenAI wants one `tool` message per result, right after the assistant message that
 * called the tools. So one Anthropic message can become several OpenAI messages.
 */

/**
 * Prefix of a tool message whose Anthropic `tool_result` had `is_error: true`. OpenAI's tool
 * message has no error flag; without the prefix the model would read a failure as a result.
 */
export const toolErrorPrefix = 'Error: ';

/** Joins adjacent text blocks when a plain string is sent (the most widely accepted content shape). */
export const textBlockSeparator = '\n\n';

/** History blocks that carry no meaning for another model and are dropped silently. */
const droppedBlockTypes = new Set(['thinking', 'redacted_thinking']);

type BlockRecord = Record<string, unknown>;

function unsupported(type: string, where: string, detail = ''): GatewayError {
  return new GatewayError('GW_UNSUPPORTED_CONTENT', {
    message: `Content block type '${type}' at ${where} cannot be sent to an OpenAI-compatible upstream${detail}.`,
  });
}

function invalid(where: string, problem: string): GatewayError {
  return new GatewayError('GW_INVALID_REQUEST', { message: `${where}: ${problem}.` });
}

/** Dropped types return; any other unknown type is refused, naming it (never silently lost). */
function dropOrRefuse(type: string, where: string): void {
  if (!droppedBlockTypes.has(type)) throw unsupported(type, where);
}

/**
 * The request schema lets any `{type: string}` object through as an "other" block, so a block
 * that says `text` is not guaranteed to carry a string `text`: checked here.
 */
function readText(block: BlockRecord, where: string): string {
  const text = block['text'];
  if (typeof text !== 'string') throw invalid(where, 'a text block needs a string `text`');
  return text;
}

/** base64 → `data:` URL (OpenAI accepts inline images only that way); url → the URL itself. */
function imagePart(block: BlockRecord, where: string): OpenAIContentPart {
  const source = block['source'];
  if (typeof source === 'object' && source !== null) {
    const fields = source as BlockRecord;
    const { type, media_type: mediaType, data, url } = fields;
    if (type === 'base64' && typeof mediaType === 'string' && typeof data === 'string') {
      return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${data}` } };
    }
    if (type === 'url' && typeof url === 'string') return { type: 'image_url', image_url: { url } };
    if (typeof type === 'string' && type !== 'base64' && type !== 'url') throw unsupported('image', where, ` (source type '${type}')`);
  }
  throw invalid(where, 'an image block needs a base64 or url source');
}

/** One text string when every part is text (widest upstream support), else the parts array. */
function collapseParts(parts: OpenAIContentPart[]): string | OpenAIContentPart[] {
  const texts: string[] = [];
  for (const part of parts) {
    if (part.type !== 'text' || !('text' in part) || typeof part.text !== 'string') return parts;
    texts.push(part.text);
  }
  return texts.join(textBlockSeparator);
}

interface TranslatedToolResult {
  message: OpenAIMessage;
  /** Images the tool returned: a tool message takes only text, so they ride in the next user message. */
  images: OpenAIContentPart[];
}

function translateToolResult(block: BlockRecord, where: string): TranslatedToolResult {
  const toolCallId = block['tool_use_id'];
  if (typeof toolCallId !== 'string') throw invalid(where, 'a tool_result block needs a string `tool_use_id`');
  boundedIdentifier(toolCallId, `${where}.tool_use_id`, toolCallIdMaxLength);
  const content = block['content'];
  const texts: string[] = [];
  const images: OpenAIContentPart[] = [];
  if (typeof content === 'string') texts.push(content);
  else if (Array.isArray(content)) {
    (content as BlockRecord[]).forEach((inner, index) => {
      const innerWhere = `${where}.content[${index}]`;
      if (inner['type'] === 'text') texts.push(readText(inner, innerWhere));
      else if (inner['type'] === 'image') images.push(imagePart(inner, innerWhere));
      else throw unsupported(String(inner['type']), innerWhere);
    });
  }
  if (images.length > 0) texts.push(`[${images.length} image(s) from this tool result follow in the next user message]`);
  const text = texts.join(textBlockSeparator);
  return {
    message: { role: 'tool', tool_call_id: toolCallId, content: block['is_error'] === true ? `${toolErrorPrefix}${text}` : text },
    images,
  };
}

/**
 * A user message: its tool results first, as `tool` messages in their original order (they must
 * directly follow the assistant's tool calls), then one user message with the remaining text and
 * images (tool-returned images first, since the tool messages point to them).
 */
function translateUserBlocks(blocks: AnthropicContentBlock[], where: string): OpenAIMessage[] {
  const toolMessages: OpenAIMessage[] = [];
  const toolImages: OpenAIContentPart[] = [];
  const parts: OpenAIContentPart[] = [];
  blocks.forEach((block, index) => {
    const record = block as BlockRecord;
    const blockWhere = `${where}.content[${index}]`;
    if (block.type === 'text') parts.push({ type: 'text', text: readText(record, blockWhere) });
    else if (block.type === 'image') parts.push(imagePart(record, blockWhere));
    else if (block.type === 'tool_result') {
      const translated = translateToolResult(record, blockWhere);
      toolMessages.push(translated.message);
      toolImages.push(...translated.images);
    } else dropOrRefuse(block.type, blockWhere);
  });
  const remaining = [...toolImages, ...parts];
  if (remaining.length === 0) return toolMessages;
  return [...toolMessages, { role: 'user', content: collapseParts(remaining) }];
}

/**
 * An assistant message: text blocks → `content` (joined), tool_use blocks → `tool_calls` with
 * `arguments` = JSON of the input. `content` is null when there is no text, as OpenAI itself
 * answers. A message left with neither (only thinking) is dropped.
 */
function translateAssistantBlocks(blocks: AnthropicContentBlock[], where: string): OpenAIMessage[] {
  const texts: string[] = [];
  const toolCalls: OpenAIToolCall[] = [];
  blocks.forEach((block, index) => {
    const record = block as BlockRecord;
    const blockWhere = `${where}.content[${index}]`;
    if (block.type === 'text') texts.push(readText(record, blockWhere));
    else if (block.type === 'tool_use') {
      const { id, name, input } = record;
      if (typeof id !== 'string' || typeof name !== 'string') throw invalid(blockWhere, 'a tool_use block needs string `id` and `name`');
      toolCalls.push({
        id: boundedIdentifier(id, `${blockWhere}.id`, toolCallIdMaxLength),
        type: 'function',
        function: { name: boundedIdentifier(name, `${blockWhere}.name`, toolNameMaxLength), arguments: JSON.stringify(input ?? {}) },
      });
    } else if (block.type === 'image') throw unsupported('image', blockWhere, ' (OpenAI assistant messages carry no images)');
    else dropOrRefuse(block.type, blockWhere);
  });
  if (texts.length === 0 && toolCalls.length === 0) return [];
  const message: OpenAIMessage = { role: 'assistant', content: texts.length === 0 ? null : texts.join(textBlockSeparator) };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return [message];
}

/**
 * A `system` message inside `messages` (Claude Code's environment section): one OpenAI system
 * message at the same position, its text blocks joined (cache_control has no OpenAI meaning).
 * OpenAI system messages carry text only, so any other block is refused, naming it; thinking
 * blocks are dropped as everywhere. A message left without text is dropped.
 */
function translateSystemBlocks(blocks: AnthropicContentBlock[], where: string): OpenAIMessage[] {
  const texts: string[] = [];
  blocks.forEach((block, index) => {
    const blockWhere = `${where}.content[${index}]`;
    if (block.type === 'text') texts.push(readText(block, blockWhere));
    else if (block.type === 'image') throw unsupported('image', blockWhere, ' (OpenAI system messages carry text only)');
    else dropOrRefuse(block.type, blockWhere);
  });
  return texts.length === 0 ? [] : [{ role: 'system', content: texts.join(textBlockSeparator) }];
}

/** One Anthropic message → zero or more OpenAI messages. `position` names it in error messages. */
export function translateMessage(message: AnthropicMessage, position: number): OpenAIMessage[] {
  const where = `messages[${position}]`;
  if (typeof message.content === 'string') return [{ role: message.role, content: message.content }];
  if (message.role === 'system') return translateSystemBlocks(message.content, where);
  return message.role === 'user' ? translateUserBlocks(message.content, where) : translateAssistantBlocks(message.content, where);
}
