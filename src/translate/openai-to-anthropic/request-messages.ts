import type {
  AnthropicContentBlock,
  AnthropicImageBlock,
  AnthropicMessage,
  AnthropicTextBlock,
  AnthropicToolResultBlock,
  AnthropicToolUseBlock,
} from '../../formats/anthropic/messages-request.js';
import type { OpenAIContentPart, OpenAIMessage, OpenAIToolCall } from '../../formats/openai/chat-request.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { boundedIdentifier, toolCallIdMaxLength, toolNameMaxLength } from '../../formats/client-strings.js';

/**
 * OpenAI messages → Anthropic `system` + alternating `messages`.
 *
 * Why the reshaping: system and developer messages, wherever they sit, are hoisted to the
 * top-level `system` in order. (Anthropic's Messages API does accept a `system` message inside
 * `messages` behind the beta Claude Code uses, and the schema admits it; the public reference
 * keeps the system prompt in `system`, which every Anthropic model takes.) Anthropic also requires
 * user and assistant turns to alternate (consecutive same-role messages are merged into one turn)
 * and carries tool results as `tool_result` blocks in a user turn (consecutive `tool` messages
 * become one user turn, which is also what Anthropic needs for parallel tool calls). Empty text is
 * left out because Anthropic rejects empty text blocks. `name` on messages has no Anthropic field
 * and is dropped.
 */
export interface TranslatedMessages {
  system: AnthropicTextBlock[];
  messages: AnthropicMessage[];
}

type MessageContent = string | OpenAIContentPart[] | null | undefined;
type TurnRole = AnthropicMessage['role'];

export function translateMessages(openaiMessages: readonly OpenAIMessage[]): TranslatedMessages {
  const system: AnthropicTextBlock[] = [];
  const turns: { role: TurnRole; content: AnthropicContentBlock[] }[] = [];

  const append = (role: TurnRole, blocks: AnthropicContentBlock[]): void => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last !== undefined && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };

  openaiMessages.forEach((message, position) => {
    const path = `messages[${position}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...systemBlocks(message.content, path));
        break;
      case 'user':
        append('user', userBlocks(message.content, path));
        break;
      case 'assistant':
        append('assistant', assistantBlocks(message.content, message.tool_calls, path));
        break;
      case 'tool':
        append('user', [toolResultBlock(message.tool_call_id, message.content, path)]);
        break;
    }
  });
  return { system, messages: turns };
}

function unsupportedPart(type: string, path: string, where: string): GatewayError {
  return new GatewayError('GW_UNSUPPORTED_CONTENT', {
    message: `${path}: content part type '${type.slice(0, 64)}' is not supported in ${where} messages when the upstream is Anthropic.`,
  });
}

function partText(part: OpenAIContentPart, key: 'text' | 'refusal', path: string): string {
  const value = (part as Record<string, unknown>)[key];
  if (typeof value !== 'string') {
    throw new GatewayError('GW_INVALID_REQUEST', { message: `${path}: a '${part.type}' part needs a string '${key}'.` });
  }
  return value;
}

function textBlocks(text: string): AnthropicTextBlock[] {
  return text === '' ? [] : [{ type: 'text', text }];
}

function systemBlocks(content: MessageContent, path: string): AnthropicTextBlock[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return textBlocks(content);
  return content.flatMap((part, index) => {
    if (part.type === 'text') return textBlocks(partText(part, 'text', `${path}.content[${index}]`));
    throw unsupportedPart(part.type, `${path}.content[${index}]`, 'system');
  });
}

/** Text and images; used for user turns and for the content of tool results. */
function userBlocks(content: MessageContent, path: string): (AnthropicTextBlock | AnthropicImageBlock)[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return textBlocks(content);
  return content.flatMap((part, index): (AnthropicTextBlock | AnthropicImageBlock)[] => {
    const partPath = `${path}.content[${index}]`;
    if (part.type === 'text') return textBlocks(partText(part, 'text', partPath));
    if (part.type === 'image_url') return [imageBlock(part, partPath)];
    throw unsupportedPart(part.type, partPath, 'user');
  });
}

function assistantBlocks(content: MessageContent, toolCalls: OpenAIToolCall[] | undefined, path: string): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  if (typeof content === 'string') blocks.push(...textBlocks(content));
  else if (Array.isArray(content)) {
    content.forEach((part, index) => {
      const partPath = `${path}.content[${index}]`;
      // An assistant refusal part is still what the assistant said; Anthropic has no refusal block.
      if (part.type === 'text') blocks.push(...textBlocks(partText(part, 'text', partPath)));
      else if (part.type === 'refusal') blocks.push(...textBlocks(partText(part, 'refusal', partPath)));
      else throw unsupportedPart(part.type, partPath, 'assistant');
    });
  }
  toolCalls?.forEach((toolCall, index) => blocks.push(toolUseBlock(toolCall, `${path}.tool_calls[${index}]`)));
  return blocks;
}

/**
 * OpenAI sends tool arguments as a JSON string; Anthropic wants the parsed object. Invalid JSON is
 * the client's error (400), never silently replaced. An empty string means "no arguments" (some
 * clients send it for parameterless tools).
 */
function toolUseBlock(toolCall: OpenAIToolCall, path: string): AnthropicToolUseBlock {
  const source = toolCall.function.arguments;
  let input: unknown = {};
  if (source.trim() !== '') {
    try {
      input = JSON.parse(source) as unknown;
    } catch {
      throw new GatewayError('GW_INVALID_REQUEST', {
        message: `${path}.function.arguments is not valid JSON; Anthropic needs tool arguments as a JSON object.`,
      });
    }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new GatewayError('GW_INVALID_REQUEST', {
      message: `${path}.function.arguments must encode a JSON object; Anthropic needs tool arguments as an object.`,
    });
  }
  return {
    type: 'tool_use',
    id: boundedIdentifier(toolCall.id, `${path}.id`, toolCallIdMaxLength),
    name: boundedIdentifier(toolCall.function.name, `${path}.function.name`, toolNameMaxLength),
    input,
  };
}

function toolResultBlock(toolCallId: string, content: MessageContent, path: string): AnthropicToolResultBlock {
  const block: AnthropicToolResultBlock = { type: 'tool_result', tool_use_id: boundedIdentifier(toolCallId, `${path}.tool_call_id`, toolCallIdMaxLength) };
  if (typeof content === 'string') {
    if (content !== '') block.content = content;
  } else {
    const blocks = userBlocks(content, path);
    if (blocks.length > 0) block.content = blocks;
  }
  return block;
}

const dataUrlPattern = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s;

/**
 * `data:` URLs (base64 only) become inline images; http(s) URLs are passed as URL images, which
 * Anthropic fetches itself (the gateway never fetches client-supplied URLs). Any other scheme is
 * refused rather than forwarded.
 */
function imageBlock(part: OpenAIContentPart, path: string): AnthropicImageBlock {
  const imageUrl = (part as Record<string, unknown>)['image_url'];
  const url = typeof imageUrl === 'object' && imageUrl !== null ? (imageUrl as Record<string, unknown>)['url'] : undefined;
  if (typeof url !== 'string' || url === '') {
    throw new GatewayError('GW_INVALID_REQUEST', { message: `${path}: an 'image_url' part needs image_url.url.` });
  }
  if (url.startsWith('data:')) {
    const match = dataUrlPattern.exec(url);
    const mediaType = match?.[1]?.toLowerCase();
    const parameters = (match?.[2] ?? '').toLowerCase().split(';');
    if (match === null || mediaType === undefined || !mediaType.startsWith('image/') || !parameters.includes('base64')) {
      throw new GatewayError('GW_UNSUPPORTED_CONTENT', {
        message: `${path}: only base64 image data URLs (data:image/<type>;base64,...) can be sent to Anthropic.`,
      });
    }
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data: match[3] ?? '' } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw new GatewayError('GW_UNSUPPORTED_CONTENT', {
    message: `${path}: image URLs must be https://, http:// or base64 data: URLs.`,
  });
}
