import { hasKeysInOrder, isEmptyArray, isInteger } from '../own-keys.js';
import { createResponseObjectWriter, itemStringJson, outputItemText, outputTextPartText } from './response-object-text.js';
import type { ResponsesStreamEvent } from './stream-writer.js';

/**
 * A `response.*` event as its SSE frame (`event: <type>`, `data: <json>`, blank line).
 *
 * The events the writer builds (createResponsesStreamWriter) are written from string templates,
 * with `JSON.stringify` only on the strings they carry: the deltas are one event per upstream
 * chunk, and stringifying each event object was most of the encoding cost of a translated stream
 * (docs/benchmarks.md, "Translated streams"); the item events around them repeat the whole text,
 * which is escaped once for all of them (response-object-text.ts). The bytes are those of
 * `JSON.stringify(event)` for the events the writer builds, keys in its order (own-keys.ts;
 * stream-event-text.test.ts checks this over the translators' fixtures); an event of another
 * shape goes through `JSON.stringify`.
 */
export function responsesStreamEventText(event: ResponsesStreamEvent): string {
  return templatedEventText(event) ?? `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * The encoder of one stream: responsesStreamEventText, and the events carrying the `response`
 * object (`response.created`, `.in_progress`, `.completed`, …) written by one ResponseObjectWriter
 * (the request's echo serialised once per stream). An event carrying the same `response` object
 * as the event before it (the writer's `response.created` and `response.in_progress` share one)
 * reuses that response's JSON. Safe because the writer never changes an object once it is in an
 * event, and only the event just before is remembered.
 */
export function createResponsesEventEncoder(): (event: ResponsesStreamEvent) => string {
  const responseObjectText = createResponseObjectWriter();
  let lastResponse: unknown;
  let lastResponseText = '';
  return (event) => {
    const response = event['response'];
    if (typeof response !== 'object' || response === null || !isInteger(event.sequence_number) || !hasKeysInOrder(event, responseEventKeys)) {
      lastResponse = undefined;
      return responsesStreamEventText(event);
    }
    const responseText = response === lastResponse ? lastResponseText : responseObjectText(response);
    lastResponse = response;
    lastResponseText = responseText;
    const type = JSON.stringify(event.type);
    return `event: ${event.type}\ndata: {"type":${type},"sequence_number":${event.sequence_number},"response":${responseText}}\n\n`;
  };
}

const responseEventKeys = ['type', 'sequence_number', 'response'] as const;


const textDeltaKeys = ['type', 'sequence_number', 'item_id', 'output_index', 'content_index', 'delta', 'logprobs'] as const;
const argumentsDeltaKeys = ['type', 'sequence_number', 'item_id', 'output_index', 'delta'] as const;
const itemEventKeys = ['type', 'sequence_number', 'output_index', 'item'] as const;
const partEventKeys = ['type', 'sequence_number', 'item_id', 'output_index', 'content_index', 'part'] as const;
const textDoneKeys = ['type', 'sequence_number', 'item_id', 'output_index', 'content_index', 'text', 'logprobs'] as const;
const argumentsDoneKeys = ['type', 'sequence_number', 'item_id', 'output_index', 'name', 'arguments'] as const;

/**
 * The event's frame from its template, or undefined when the event is not exactly the writer's
 * shape for its type (its keys in its order, the types it writes): anything else, the same keys in
 * another order included, is left to JSON.stringify.
 */
function templatedEventText(event: ResponsesStreamEvent): string | undefined {
  const record = event as Record<string, unknown>;
  const sequence = event.sequence_number;
  const outputIndex = record['output_index'];
  if (!isInteger(sequence) || !isInteger(outputIndex)) return undefined;
  const itemId = record['item_id'];
  switch (event.type) {
    case 'response.output_text.delta': {
      const { content_index: contentIndex, delta } = record;
      if (typeof itemId !== 'string' || !isInteger(contentIndex) || typeof delta !== 'string' || !isEmptyArray(record['logprobs']) || !hasKeysInOrder(event, textDeltaKeys)) return undefined;
      return `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":${sequence},"item_id":${itemStringJson.itemId(itemId)},"output_index":${outputIndex},"content_index":${contentIndex},"delta":${JSON.stringify(delta)},"logprobs":[]}\n\n`;
    }
    case 'response.function_call_arguments.delta': {
      const delta = record['delta'];
      if (typeof itemId !== 'string' || typeof delta !== 'string' || !hasKeysInOrder(event, argumentsDeltaKeys)) return undefined;
      return `event: response.function_call_arguments.delta\ndata: {"type":"response.function_call_arguments.delta","sequence_number":${sequence},"item_id":${itemStringJson.itemId(itemId)},"output_index":${outputIndex},"delta":${JSON.stringify(delta)}}\n\n`;
    }
    case 'response.output_item.added':
    case 'response.output_item.done': {
      const item = record['item'];
      if (typeof item !== 'object' || item === null || !hasKeysInOrder(event, itemEventKeys)) return undefined;
      return `event: ${event.type}\ndata: {"type":"${event.type}","sequence_number":${sequence},"output_index":${outputIndex},"item":${outputItemText(item)}}\n\n`;
    }
    case 'response.content_part.added':
    case 'response.content_part.done': {
      const contentIndex = record['content_index'];
      if (typeof itemId !== 'string' || !isInteger(contentIndex) || !hasKeysInOrder(event, partEventKeys)) return undefined;
      const part = outputTextPartText(record['part']);
      if (part === undefined) return undefined;
      return `event: ${event.type}\ndata: {"type":"${event.type}","sequence_number":${sequence},"item_id":${itemStringJson.itemId(itemId)},"output_index":${outputIndex},"content_index":${contentIndex},"part":${part}}\n\n`;
    }
    case 'response.output_text.done': {
      const { content_index: contentIndex, text } = record;
      if (typeof itemId !== 'string' || !isInteger(contentIndex) || typeof text !== 'string' || !isEmptyArray(record['logprobs']) || !hasKeysInOrder(event, textDoneKeys)) return undefined;
      return `event: response.output_text.done\ndata: {"type":"response.output_text.done","sequence_number":${sequence},"item_id":${itemStringJson.itemId(itemId)},"output_index":${outputIndex},"content_index":${contentIndex},"text":${itemStringJson.outputText(text)},"logprobs":[]}\n\n`;
    }
    case 'response.function_call_arguments.done': {
      const { name, arguments: callArguments } = record;
      if (typeof itemId !== 'string' || typeof name !== 'string' || typeof callArguments !== 'string' || !hasKeysInOrder(event, argumentsDoneKeys)) return undefined;
      return `event: response.function_call_arguments.done\ndata: {"type":"response.function_call_arguments.done","sequence_number":${sequence},"item_id":${itemStringJson.itemId(itemId)},"output_index":${outputIndex},"name":${itemStringJson.functionName(name)},"arguments":${itemStringJson.arguments(callArguments)}}\n\n`;
    }
    default:
      return undefined;
  }
}
