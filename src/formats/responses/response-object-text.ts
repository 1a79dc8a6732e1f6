import { createJsonStringCache } from '../json-string-cache.js';
import { hasKeysInOrder, isEmptyArray, jsonText } from '../own-keys.js';

/**
 * The `response` object and its output items as JSON text, byte for byte `JSON.stringify` of the
 * objects response-builder.ts builds, written from templates.
 *
 * A translated Responses stream writes the answer's text four times (`response.output_text.done`,
 * `response.content_part.done`, `response.output_item.done` and the output of
 * `response.completed`) and the response object three times (`response.created`,
 * `response.in_progress`, `response.completed`), each echoing the request's `instructions`,
 * `tools`, `tool_choice` and `metadata`. `JSON.stringify` of those event objects was the largest
 * item of the `openai-responses ← openai-chat` transformer (about 30% of its CPU in a
 * `--cpu-prof` of bench/relay-work.mjs's stream; docs/benchmarks.md, "Translated streams, session
 * of 2026-12-04"). Here the strings are escaped once each (one cache per kind of string: the same
 * text goes into consecutive events) and the request's echo once per stream.
 *
 * A template is taken only for an object of exactly the builder's shape, keys in its order
 * (own-keys.ts); anything else goes through `JSON.stringify`. stream-event-text.test.ts compares
 * both over every translator fixture and hand-made shapes. Pure apart from the string caches,
 * which remember the last string only (a miss is another `JSON.stringify`, never a wrong answer).
 */

const messageItemKeys = ['id', 'type', 'status', 'role', 'content'] as const;
const functionCallItemKeys = ['id', 'type', 'status', 'call_id', 'name', 'arguments'] as const;
const outputTextPartKeys = ['type', 'text', 'annotations'] as const;

const itemIdJson = createJsonStringCache();
const outputTextJson = createJsonStringCache();
const callIdJson = createJsonStringCache();
const functionNameJson = createJsonStringCache();
const argumentsJson = createJsonStringCache();

/** An item status as JSON: the builder's three, else JSON.stringify. */
function statusJson(status: unknown): string | undefined {
  if (status === 'completed') return '"completed"';
  if (status === 'in_progress') return '"in_progress"';
  if (status === 'incomplete') return '"incomplete"';
  return typeof status === 'string' ? JSON.stringify(status) : undefined;
}


/** `{"type":"output_text","text":…,"annotations":[]}`, or undefined for any other part. */
export function outputTextPartText(part: unknown): string | undefined {
  if (typeof part !== 'object' || part === null || !hasKeysInOrder(part, outputTextPartKeys)) return undefined;
  const { type, text, annotations } = part as { type: unknown; text: unknown; annotations: unknown };
  if (type !== 'output_text' || typeof text !== 'string' || !isEmptyArray(annotations)) return undefined;
  return `{"type":"output_text","text":${outputTextJson(text)},"annotations":[]}`;
}

/** An output item (a message or a function call) as JSON text. */
export function outputItemText(item: unknown): string {
  // An array element without JSON text of its own (undefined) is written `null`, as in an array.
  return templatedItemText(item) ?? jsonText(item) ?? 'null';
}


function templatedItemText(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const record = item as Record<string, unknown>;
  const id = record['id'];
  const status = statusJson(record['status']);
  if (typeof id !== 'string' || status === undefined) return undefined;
  if (record['type'] === 'message' && record['role'] === 'assistant' && hasKeysInOrder(item, messageItemKeys)) {
    const content = record['content'];
    if (!Array.isArray(content)) return undefined;
    let parts = '';
    for (let index = 0; index < content.length; index++) {
      const part = outputTextPartText(content[index]);
      if (part === undefined) return undefined;
      parts += index === 0 ? part : `,${part}`;
    }
    return `{"id":${itemIdJson(id)},"type":"message","status":${status},"role":"assistant","content":[${parts}]}`;
  }
  if (record['type'] === 'function_call' && hasKeysInOrder(item, functionCallItemKeys)) {
    const { call_id: callId, name, arguments: callArguments } = record;
    if (typeof callId !== 'string' || typeof name !== 'string' || typeof callArguments !== 'string') return undefined;
    return `{"id":${itemIdJson(id)},"type":"function_call","status":${status},"call_id":${callIdJson(callId)},"name":${functionNameJson(name)},"arguments":${argumentsJson(callArguments)}}`;
  }
  return undefined;
}

/**
 * The string caches of the items, for the `.done` events that repeat an item's strings
 * (stream-event-text.ts): the whole text, the item id, a call's name and arguments.
 */
export const itemStringJson = { outputText: outputTextJson, itemId: itemIdJson, functionName: functionNameJson, arguments: argumentsJson } as const;

const responseObjectKeys = [
  'id',
  'object',
  'created_at',
  'status',
  'error',
  'incomplete_details',
  'instructions',
  'max_output_tokens',
  'model',
  'output',
  'parallel_tool_calls',
  'previous_response_id',
  'store',
  'temperature',
  'tool_choice',
  'tools',
  'top_p',
  'usage',
  'metadata',
] as const;

/** The fields that echo the request (the same in every response object of a stream), in the object's order. */
const echoedFields = ['id', 'created_at', 'instructions', 'max_output_tokens', 'parallel_tool_calls', 'previous_response_id', 'store', 'temperature', 'tool_choice', 'tools', 'top_p', 'metadata'] as const;
const fieldsAfterOutput = ['parallel_tool_calls', 'previous_response_id', 'store', 'temperature', 'tool_choice', 'tools', 'top_p'] as const;

/** Writes one stream's `response` objects as JSON text. */
export type ResponseObjectWriter = (response: object) => string;

/**
 * A writer of one stream's `response` objects. The echoed fields are compared by identity with the
 * last object's (the builder copies the request's values by reference, and nothing changes them
 * during a stream; an empty array or object the builder makes afresh counts as the same), and
 * their JSON is kept as the runs of text between the fields that change (status, error,
 * incomplete_details, model, output, usage).
 */
export function createResponseObjectWriter(): ResponseObjectWriter {
  const echoed: unknown[] = [];
  let head = '';
  let middle = '';
  let tail = '';
  let metadataText = '';
  const sameEcho = (record: Record<string, unknown>): boolean => {
    if (echoed.length === 0) return false;
    for (let index = 0; index < echoedFields.length; index++) {
      const value = record[echoedFields[index] as string];
      const before = echoed[index];
      if (value !== before && !(isEmptyArray(value) && isEmptyArray(before)) && !(isEmptyPlainObject(value) && isEmptyPlainObject(before))) return false;
    }
    return true;
  };
  /** The echoed fields' text, or false when one of them has no JSON text of its own (undefined, a function): then the object is JSON.stringify's. */
  const writeEcho = (record: Record<string, unknown>): boolean => {
    const texts: string[] = [];
    for (const key of echoedFields) {
      const text = fieldJson(record[key]);
      if (text === undefined) return false;
      texts.push(text);
    }
    // texts is in echoedFields' order: id, created_at, instructions, max_output_tokens, then fieldsAfterOutput, then metadata.
    head = `{"id":${texts[0]},"object":"response","created_at":${texts[1]},"status":`;
    middle = `,"instructions":${texts[2]},"max_output_tokens":${texts[3]},"model":`;
    tail = '';
    for (let index = 0; index < fieldsAfterOutput.length; index++) tail += `,"${fieldsAfterOutput[index]}":${texts[index + 4]}`;
    tail += ',"usage":';
    metadataText = texts[11] as string;
    echoed.length = 0;
    for (const key of echoedFields) echoed.push(record[key]);
    return true;
  };
  return (response) => {
    const record = response as Record<string, unknown>;
    const { status, model, output } = record;
    if (typeof status !== 'string' || typeof model !== 'string' || !Array.isArray(output) || record['object'] !== 'response' || !hasKeysInOrder(response, responseObjectKeys)) {
      return JSON.stringify(response);
    }
    if (!sameEcho(record) && !writeEcho(record)) {
      echoed.length = 0;
      return JSON.stringify(response);
    }
    const error = fieldJson(record['error']);
    const incompleteDetails = fieldJson(record['incomplete_details']);
    const usage = fieldJson(record['usage']);
    if (error === undefined || incompleteDetails === undefined || usage === undefined) return JSON.stringify(response);
    let items = '';
    for (let index = 0; index < output.length; index++) items += index === 0 ? outputItemText(output[index]) : `,${outputItemText(output[index])}`;
    return `${head}${JSON.stringify(status)},"error":${error},"incomplete_details":${incompleteDetails}${middle}${JSON.stringify(model)},"output":[${items}]${tail}${usage},"metadata":${metadataText}}`;
  };
}

/**
 * A field's JSON, the values the builder copies from the request without a call where the text is
 * known (null, booleans, integers, empty arrays and objects); undefined when the value has no JSON
 * text (undefined, a function): the object is then JSON.stringify's.
 */
function fieldJson(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (isEmptyArray(value)) return '[]';
  if (isEmptyPlainObject(value)) return '{}';
  return jsonText(value);
}

function isEmptyPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) if (Object.prototype.hasOwnProperty.call(value, key)) return false;
  return true;
}
