import type {
  AnthropicContentBlock,
  AnthropicCountTokensRequest,
  AnthropicMessagesRequest,
  AnthropicTool,
} from '../../formats/anthropic/messages-request.js';

/**
 * Token estimation for requests whose upstream cannot count (OpenAI-compatible servers have no
 * count_tokens endpoint, and stream usage arrives only at the end).
 *
 * This is an APPROXIMATION, not a tokenizer: English prose and JSON average about 4 UTF-8 bytes per
 * token with the BPE vocabularies of GPT-4o and Claude; code and non-Latin scripts use more tokens
 * per byte, so the estimate can be low by 20-50% for them. It is good enough for a rate-limit
 * budget and for `message_start.usage.input_tokens` (which the real count in `message_delta`
 * replaces when the upstream reports usage). It must never be billed as exact; the count_tokens
 * route marks its answer with `x-token-count-estimated: true`.
 */

/** Average UTF-8 bytes per token for prose and JSON. */
export const estimatedBytesPerToken = 4;
/** Per-message framing (role markers, separators): OpenAI documents 3-4 tokens per message. */
export const estimatedTokensPerMessage = 4;
/** Reply priming plus the request frame, counted once. */
export const estimatedBaseTokens = 3;
/**
 * One image, whatever its size: pixel size is not known without decoding. Anthropic bills about
 * width×height/750 tokens, capped near 1,600 for a 1.15-megapixel image; the cap is used so the
 * estimate errs high (a rate limit that over-counts is safe, one that under-counts is not).
 */
export const estimatedTokensPerImage = 1_600;
/** Per tool definition: the framing a provider wraps around each function schema. */
export const estimatedTokensPerTool = 8;

/** Tokens for one piece of text: ceil(UTF-8 bytes / 4). */
export function estimateTextTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / estimatedBytesPerToken);
}

/** Running tally: bytes of text are summed and divided once, so many short pieces do not each round up. */
interface Tally {
  bytes: number;
  tokens: number;
}

function addText(tally: Tally, text: string): void {
  tally.bytes += Buffer.byteLength(text, 'utf8');
}

/** JSON.stringify that never returns undefined (an absent tool input counts as `{}`). */
function jsonText(value: unknown): string {
  return JSON.stringify(value ?? {}) ?? '';
}

function addBlock(tally: Tally, block: AnthropicContentBlock): void {
  const record = block as Record<string, unknown>;
  switch (block.type) {
    case 'text':
      addText(tally, typeof record['text'] === 'string' ? record['text'] : '');
      return;
    case 'image':
      tally.tokens += estimatedTokensPerImage;
      return;
    case 'tool_use':
      addText(tally, typeof record['name'] === 'string' ? record['name'] : '');
      addText(tally, jsonText(record['input']));
      return;
    case 'tool_result': {
      // Sent upstream as its own `tool` message.
      tally.tokens += estimatedTokensPerMessage;
      const content = record['content'];
      if (typeof content === 'string') addText(tally, content);
      else if (Array.isArray(content)) for (const inner of content as AnthropicContentBlock[]) addBlock(tally, inner);
      return;
    }
    case 'thinking':
    case 'redacted_thinking':
      // Dropped by the request translation: the upstream never sees them.
      return;
    default:
      // Documents and other block types: their JSON size is the best cheap guess.
      addText(tally, jsonText(block));
  }
}

function addTool(tally: Tally, tool: AnthropicTool): void {
  tally.tokens += estimatedTokensPerTool;
  if (tool.type !== undefined && tool.type !== 'custom') return addText(tally, jsonText(tool));
  addText(tally, tool.name);
  if (tool.description !== undefined) addText(tally, tool.description);
  addText(tally, jsonText(tool.input_schema));
}

/**
 * Estimated input tokens of an Anthropic request as it will reach an OpenAI-compatible upstream:
 * system text, every message's text, tool_use names and inputs (as JSON), tool_result contents,
 * tool definitions (name, description, JSON schema), plus {@link estimatedTokensPerMessage} per
 * message, {@link estimatedTokensPerImage} per image and {@link estimatedBaseTokens} once.
 * Thinking blocks count 0 because translation drops them. An approximation; see the module note.
 */
export function estimateAnthropicInputTokens(request: AnthropicCountTokensRequest | AnthropicMessagesRequest): number {
  const tally: Tally = { bytes: 0, tokens: estimatedBaseTokens };
  const system = request.system;
  if (typeof system === 'string' && system !== '') {
    tally.tokens += estimatedTokensPerMessage;
    addText(tally, system);
  } else if (Array.isArray(system) && system.length > 0) {
    tally.tokens += estimatedTokensPerMessage;
    for (const block of system) addText(tally, block.text);
  }
  for (const message of request.messages) {
    tally.tokens += estimatedTokensPerMessage;
    if (typeof message.content === 'string') addText(tally, message.content);
    else for (const block of message.content) addBlock(tally, block);
  }
  for (const tool of request.tools ?? []) addTool(tally, tool);
  return tally.tokens + Math.ceil(tally.bytes / estimatedBytesPerToken);
}
