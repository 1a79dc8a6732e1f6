import { hasKeysInOrder } from '../own-keys.js';
import type { AnthropicStreamEvent } from './messages-response.js';

/**
 * An Anthropic stream event as its SSE frame (`event: <type>`, `data: <json>`, blank line).
 *
 * The per-chunk events of a translated stream (content_block_delta and the block starts and stops
 * around it) are most of what a translated stream writes, and `JSON.stringify` of each event object
 * was a third of the translation's CPU per request (docs/benchmarks.md, "Translated streams"). They
 * are written here from string templates, with `JSON.stringify` only on the strings they carry (the
 * text delta, the partial JSON, an id or a name), which escapes them exactly as it would inside the
 * whole object. The bytes are the same as `JSON.stringify(event)` with the object's keys in the
 * order the type declares (stream-event-text.test.ts checks this over every translator fixture).
 * The once-per-stream events (message_start, message_delta) are written from templates too, but
 * only for an object of exactly the shape the translators build (keys in their order, checked with
 * own-keys.ts; usage a flat record of integer counts, an absent count left out as JSON.stringify
 * leaves it out); any other shape, `error`, and anything unexpected go through `JSON.stringify`.
 */
export function anthropicStreamEventText(event: AnthropicStreamEvent): string {
  switch (event.type) {
    case 'content_block_delta': {
      const delta = event.delta;
      const head = `event: content_block_delta\ndata: {"type":"content_block_delta","index":${event.index},"delta":{"type":`;
      switch (delta.type) {
        case 'text_delta':
          return `${head}"text_delta","text":${JSON.stringify(delta.text)}}}\n\n`;
        case 'input_json_delta':
          return `${head}"input_json_delta","partial_json":${JSON.stringify(delta.partial_json)}}}\n\n`;
        case 'thinking_delta':
          return `${head}"thinking_delta","thinking":${JSON.stringify(delta.thinking)}}}\n\n`;
        default:
          return genericText(event);
      }
    }
    case 'content_block_start': {
      const block = event.content_block;
      const head = `event: content_block_start\ndata: {"type":"content_block_start","index":${event.index},"content_block":{"type":`;
      if (block.type === 'text' && block.text === '') return `${head}"text","text":""}}\n\n`;
      if (block.type === 'thinking' && block.thinking === '' && !('signature' in block)) return `${head}"thinking","thinking":""}}\n\n`;
      return genericText(event);
    }
    case 'content_block_stop':
      return `event: content_block_stop\ndata: {"type":"content_block_stop","index":${event.index}}\n\n`;
    case 'message_stop':
      return 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    case 'ping':
      return 'event: ping\ndata: {"type":"ping"}\n\n';
    case 'message_start':
      return messageStartText(event) ?? genericText(event);
    case 'message_delta':
      return messageDeltaText(event) ?? genericText(event);
    default:
      return genericText(event);
  }
}

function genericText(event: AnthropicStreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

const messageStartKeys = ['type', 'message'] as const;
const messageKeys = ['id', 'type', 'role', 'model', 'content', 'stop_reason', 'stop_sequence', 'usage'] as const;
const messageDeltaKeys = ['type', 'delta', 'usage'] as const;
const stopKeys = ['stop_reason', 'stop_sequence'] as const;

/** The message_start the translators build (no content yet, no stop), or undefined for any other shape. */
function messageStartText(event: Extract<AnthropicStreamEvent, { type: 'message_start' }>): string | undefined {
  const message = event.message as unknown;
  if (!hasKeysInOrder(event, messageStartKeys) || typeof message !== 'object' || message === null || !hasKeysInOrder(message, messageKeys)) return undefined;
  const { id, type, role, model, content, stop_reason: stopReason, stop_sequence: stopSequence, usage } = message as Record<(typeof messageKeys)[number], unknown>;
  if (typeof id !== 'string' || type !== 'message' || role !== 'assistant' || typeof model !== 'string') return undefined;
  if (!Array.isArray(content) || content.length !== 0 || stopReason !== null || stopSequence !== null) return undefined;
  const usageText = countsText(usage);
  if (usageText === undefined) return undefined;
  return `event: message_start\ndata: {"type":"message_start","message":{"id":${JSON.stringify(id)},"type":"message","role":"assistant","model":${JSON.stringify(model)},"content":[],"stop_reason":null,"stop_sequence":null,"usage":${usageText}}}\n\n`;
}

/** The message_delta the translators build (a stop reason, no stop sequence or a string one), or undefined. */
function messageDeltaText(event: Extract<AnthropicStreamEvent, { type: 'message_delta' }>): string | undefined {
  const delta = event.delta as unknown;
  if (!hasKeysInOrder(event, messageDeltaKeys) || typeof delta !== 'object' || delta === null || !hasKeysInOrder(delta, stopKeys)) return undefined;
  const { stop_reason: stopReason, stop_sequence: stopSequence } = delta as Record<(typeof stopKeys)[number], unknown>;
  if ((stopReason !== null && typeof stopReason !== 'string') || (stopSequence !== null && typeof stopSequence !== 'string')) return undefined;
  const usageText = countsText(event.usage);
  if (usageText === undefined) return undefined;
  return `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":${JSON.stringify(stopReason)},"stop_sequence":${JSON.stringify(stopSequence)}},"usage":${usageText}}\n\n`;
}

/** The usage counts Anthropic names: keys that need no escaping in JSON. */
const countKeys = new Set(['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens']);

/**
 * A usage record as JSON.stringify writes it, for a record whose own keys are all usage counts
 * (countKeys) holding a safe integer, null or undefined (left out, as JSON.stringify leaves it);
 * undefined for anything else (a nested object, a fraction, NaN), which then goes to JSON.stringify.
 */
function countsText(usage: unknown): string | undefined {
  if (typeof usage !== 'object' || usage === null || Array.isArray(usage)) return undefined;
  let text = '';
  for (const key in usage) {
    if (!Object.prototype.hasOwnProperty.call(usage, key) || !countKeys.has(key)) return undefined;
    const value = (usage as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (value !== null && !(typeof value === 'number' && Number.isSafeInteger(value))) return undefined;
    text += `${text === '' ? '' : ','}"${key}":${value === null ? 'null' : String(value)}`;
  }
  return `{${text}}`;
}
