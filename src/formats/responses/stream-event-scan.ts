import { decodeStringBody, skipPlainValue, stringEnd } from '../openai/stream-chunk-scan.js';

/**
 * The fast path of reading a Responses upstream's text delta (issue #12, "Cost"): the
 * `response.output_text.delta` events are most of a Responses stream, and the chat translator
 * (translate/openai-to-responses/stream.ts) reads two things from each, its `type` and its `delta`.
 * `JSON.parse` of every event was the largest item of a Responses upstream's translated stream
 * (docs/benchmarks.md, "Translated streams"); this scan reads the delta from the text.
 *
 * It is conservative, as formats/openai/stream-chunk-scan.ts is: it answers only for an event that
 * is exactly `{"type":"response.output_text.delta",…}` written compactly (no whitespace), whose
 * every key is one it knows (type, sequence_number, item_id, output_index, content_index, delta,
 * logprobs, obfuscation), seen once and unescaped, with a plain value (strings, null, non-negative
 * integers, `[]` for logprobs), `type` and `delta` present. Every character is thereby checked: a
 * key against that list, a string by its decoding (which refuses a raw control character), and
 * everything between them as the one structural character expected there.
 * Anything else gives undefined and the caller parses the event with JSON.parse as before. What it
 * accepts is what JSON.parse reads: an object whose `type` is that string and whose `delta` is the
 * string returned (stream-event-scan.test.ts checks this over the fixtures and generated and
 * mutated events; bridges/responses-delta-fast-path.test.ts compares each bridge's output with and
 * without it). Pure.
 */
export function scanResponsesTextDelta(data: string): string | undefined {
  if (!data.startsWith(typeHead) || data.charCodeAt(data.length - 1) !== 125 /* } */) return undefined;
  let position = typeHead.length;
  let seen = keyType;
  let delta: string | undefined;
  for (;;) {
    if (data.charCodeAt(position) !== 34 /* " */) return undefined;
    const keyEnd = data.indexOf('"', position + 1);
    if (keyEnd === -1 || data.charCodeAt(keyEnd + 1) !== 58 /* : */) return undefined;
    const bit = keyBits.get(data.slice(position + 1, keyEnd));
    // An unknown, escaped or repeated key (JSON.parse keeps the last of two): JSON.parse's turn.
    if (bit === undefined || (seen & bit) !== 0) return undefined;
    seen |= bit;
    const valueStart = keyEnd + 2;
    if (bit === keyDelta) {
      if (data.charCodeAt(valueStart) !== 34) return undefined;
      const end = stringEnd(data, valueStart);
      if (end === -1) return undefined;
      delta = decodeStringBody(data.slice(valueStart + 1, end));
      if (delta === undefined) return undefined;
      position = end + 1;
    } else if (bit === keyLogprobs) {
      if (!data.startsWith('[]', valueStart)) return undefined;
      position = valueStart + 2;
    } else {
      // Strings for the ids, integers for the indexes and the sequence number, null for either.
      position = skipPlainValue(data, valueStart, bit !== keyItemId && bit !== keyObfuscation);
      if (position === -1) return undefined;
    }
    const next = data.charCodeAt(position);
    if (next === 125 /* } */) return position === data.length - 1 ? delta : undefined;
    if (next !== 44 /* , */) return undefined;
    position++;
  }
}

/** The event's first key and its value: where the scan of the other keys starts. */
const typeHead = '{"type":"response.output_text.delta",';

// The keys an output_text.delta event has, as bits so that a duplicate is refused.
const keyType = 1;
const keyDelta = 2;
const keyLogprobs = 4;
const keyItemId = 8;
const keyObfuscation = 16;
const keyBits = new Map<string, number>([
  ['type', keyType],
  ['delta', keyDelta],
  ['logprobs', keyLogprobs],
  ['item_id', keyItemId],
  ['obfuscation', keyObfuscation],
  ['sequence_number', 32],
  ['output_index', 64],
  ['content_index', 128],
]);
