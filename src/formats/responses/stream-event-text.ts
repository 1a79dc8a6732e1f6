import { createJsonStringCache } from '../json-string-cache.js';
import { hasKeysInOrder } from '../own-keys.js';
import type { ResponsesStreamEvent } from './stream-writer.js';

/**
 * A `response.*` event as its SSE frame (`event: <type>`, `data: <json>`, blank line).
 *
 * The deltas (`response.output_text.delta`, `response.function_call_arguments.delta`) are one
 * event per upstream chunk and are written from string templates, with `JSON.stringify` only on the
 * strings they carry: stringifying each event object was most of the encoding cost of a translated
 * stream (docs/benchmarks.md, "Translated streams"). The bytes are those of `JSON.stringify(event)`
 * for the events `createResponsesStreamWriter` builds, keys in its order (own-keys.ts; stream-event-text.test.ts
 * checks this over the translators' fixtures); a delta of another shape, and every other event, goes
 * through `JSON.stringify`.
 */
export function responsesStreamEventText(event: ResponsesStreamEvent): string {
  if (event.type === 'response.output_text.delta' && isTextDelta(event)) {
    return `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":${event.sequence_number},"item_id":${itemIdText(event.item_id)},"output_index":${event.output_index},"content_index":${event.content_index},"delta":${JSON.stringify(event.delta)},"logprobs":[]}\n\n`;
  }
  if (event.type === 'response.function_call_arguments.delta' && isArgumentsDelta(event)) {
    return `event: response.function_call_arguments.delta\ndata: {"type":"response.function_call_arguments.delta","sequence_number":${event.sequence_number},"item_id":${itemIdText(event.item_id)},"output_index":${event.output_index},"delta":${JSON.stringify(event.delta)}}\n\n`;
  }
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * The encoder of one stream: responsesStreamEventText, except that an event carrying the same
 * `response` object as the event before it (the writer's `response.created` and
 * `response.in_progress` share one) reuses that response's JSON instead of serialising it again.
 * The two events differ only in their type and sequence number. Safe because the writer never
 * changes an object once it is in an event, and only the event just before is remembered.
 */
export function createResponsesEventEncoder(): (event: ResponsesStreamEvent) => string {
  let lastResponse: unknown;
  let lastResponseText = '';
  return (event) => {
    const response = event['response'];
    if (typeof response !== 'object' || response === null || !isIndex(event.sequence_number) || !hasKeysInOrder(event, responseEventKeys)) {
      lastResponse = undefined;
      return responsesStreamEventText(event);
    }
    const responseText = response === lastResponse ? lastResponseText : JSON.stringify(response);
    lastResponse = response;
    lastResponseText = responseText;
    const type = JSON.stringify(event.type);
    return `event: ${event.type}\ndata: {"type":${type},"sequence_number":${event.sequence_number},"response":${responseText}}\n\n`;
  };
}

const responseEventKeys = ['type', 'sequence_number', 'response'] as const;

/** An item id as JSON: the same for every delta of an item, escaped once per item instead of per delta. */
const itemIdText = createJsonStringCache();

type TextDelta = ResponsesStreamEvent & { item_id: string; output_index: number; content_index: number; delta: string; logprobs: unknown[] };
type ArgumentsDelta = ResponsesStreamEvent & { item_id: string; output_index: number; delta: string };

const isIndex = (value: unknown): value is number => Number.isInteger(value);

const textDeltaKeys = ['type', 'sequence_number', 'item_id', 'output_index', 'content_index', 'delta', 'logprobs'] as const;
const argumentsDeltaKeys = ['type', 'sequence_number', 'item_id', 'output_index', 'delta'] as const;

/**
 * Exactly the writer's shape (its seven keys in its order, empty logprobs): anything else, the same
 * keys in another order included, is left to JSON.stringify.
 */
function isTextDelta(event: ResponsesStreamEvent): event is TextDelta {
  const logprobs = event['logprobs'];
  return (
    typeof event['item_id'] === 'string' &&
    isIndex(event.sequence_number) &&
    isIndex(event['output_index']) &&
    isIndex(event['content_index']) &&
    typeof event['delta'] === 'string' &&
    Array.isArray(logprobs) &&
    logprobs.length === 0 &&
    hasKeysInOrder(event, textDeltaKeys)
  );
}

function isArgumentsDelta(event: ResponsesStreamEvent): event is ArgumentsDelta {
  return typeof event['item_id'] === 'string' && isIndex(event.sequence_number) && isIndex(event['output_index']) && typeof event['delta'] === 'string' && hasKeysInOrder(event, argumentsDeltaKeys);
}
