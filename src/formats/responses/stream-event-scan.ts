import { jsonCountPattern, jsonStringPattern } from '../json-patterns.js';
import { decodeStringBody, stringEnd } from '../openai/stream-chunk-scan.js';

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
 * logprobs, obfuscation) written without escapes, with a plain value (a string, null, a
 * non-negative integer, `[]` for logprobs), `type` first and once, `delta` a string. Every
 * character is thereby checked (plainDeltaEvent): a key against that list, a string as JSON's
 * grammar has it (no raw control character, only valid escapes), and everything between them as
 * the one structural character expected there. Another key repeated is accepted, and its last
 * value read, as JSON.parse does.
 * Anything else gives undefined and the caller parses the event with JSON.parse as before. What it
 * accepts is what JSON.parse reads: an object whose `type` is that string and whose `delta` is the
 * string returned (stream-event-scan.test.ts checks this over the fixtures and generated and
 * mutated events; bridges/responses-delta-fast-path.test.ts compares each bridge's output with and
 * without it). Pure.
 */
export function scanResponsesTextDelta(data: string): string | undefined {
  if (!plainDeltaEvent.test(data)) return undefined;
  // Every key is one of the pattern's, every string a whole JSON string, so `"delta":"` occurs only
  // as that key (inside a string a quote is escaped, and `"delta"` followed by a colon is a key):
  // its last occurrence is the value JSON.parse keeps when the key is repeated.
  const valueStart = data.lastIndexOf('"delta":"') + '"delta":'.length;
  if (valueStart < '"delta":'.length) return undefined;
  const end = stringEnd(data, valueStart);
  return end === -1 ? undefined : decodeStringBody(data.slice(valueStart + 1, end));
}

/**
 * The whole event, as the scan accepts it: `type` first, then any of the known keys with a plain
 * value. One regular expression (compiled to native code by V8) instead of a walk key by key in
 * JavaScript: ~90 against ~300-470 ns per event, where JSON.parse takes ~370 (docs/benchmarks.md).
 * Each alternative starts with a different key, and a string or number ends at the one character
 * that may follow it, so the match never backtracks more than a key's length.
 */
const plainDeltaEvent = new RegExp(
  '^\\{"type":"response\\.output_text\\.delta"(?:,(?:' +
    [
      `"(?:sequence_number|output_index|content_index)":(?:${jsonCountPattern}|null)`,
      `"(?:item_id|obfuscation)":(?:${jsonStringPattern}|null)`,
      `"delta":${jsonStringPattern}`,
      '"logprobs":\\[\\]',
    ].join('|') +
    '))*\\}$',
);
