import { jsonCountPattern, jsonStringPattern, matchedJsonString } from '../json-patterns.js';

/**
 * The fast path of reading an Anthropic upstream's content deltas (issue #12, "Cost"): the
 * `content_block_delta` events are most of an Anthropic stream, and `JSON.parse` of every event was
 * the largest item of a Gemini client's translated stream from an Anthropic upstream (~17 of ~140
 * µs per request in the profile, docs/benchmarks.md). This scan reads a delta event from the text.
 *
 * It is conservative, as the Responses and Gemini scans are: it answers only for an event written
 * exactly as Anthropic's API writes it, compactly, `{"type":"content_block_delta","index":N,
 * "delta":{"type":T,F:S}}` with T and F one of text_delta/text, thinking_delta/thinking and
 * input_json_delta/partial_json, N a non-negative integer and S a JSON string. Every character is
 * checked by one anchored regular expression (no other key, no whitespace, no escape in a key, the
 * string as JSON's grammar has it). Anything else gives undefined and the caller parses the event
 * with JSON.parse as before. What it returns is what JSON.parse returns for the same text: an object
 * with the same keys in the same order and the same values (stream-event-scan.test.ts checks this
 * over the recorded streams and generated and mutated events; bridges/anthropic-delta-fast-path.test.ts
 * compares each bridge's output with and without it). Pure.
 */
export function scanAnthropicContentDelta(data: string): Record<string, unknown> | undefined {
  const match = plainDeltaEvent.exec(data);
  if (match === null) return undefined;
  const [, index, kind, literal] = match;
  const deltaType = deltaTypes[kind as keyof typeof deltaTypes];
  const value = matchedJsonString(literal);
  if (value === undefined) return undefined;
  return { type: 'content_block_delta', index: Number(index), delta: { type: deltaType[0], [deltaType[1]]: value } };
}

/** The delta kinds the pattern admits: its group's text → the delta's type and the key of its string. */
const deltaTypes = {
  'text_delta","text': ['text_delta', 'text'],
  'thinking_delta","thinking': ['thinking_delta', 'thinking'],
  'input_json_delta","partial_json': ['input_json_delta', 'partial_json'],
} as const;

const plainDeltaEvent = new RegExp(
  `^\\{"type":"content_block_delta","index":(${jsonCountPattern}),"delta":\\{"type":"(text_delta","text|thinking_delta","thinking|input_json_delta","partial_json)":(${jsonStringPattern})\\}\\}$`,
);
