/**
 * Pieces of regular expressions (as source text) for the scans that read an upstream's stream
 * events without JSON.parse (responses/stream-event-scan.ts, gemini/stream-chunk-scan.ts,
 * anthropic/stream-event-scan.ts). Each matches exactly what JSON's grammar allows in its place, so
 * what a scan accepts JSON.parse reads the same way.
 */

/** A JSON string, quotes included: no raw quote, backslash or control character but in a valid escape. */
export const jsonStringPattern = '"(?:[^"\\\\\\x00-\\x1f]|\\\\["\\\\/bfnrt]|\\\\u[0-9a-fA-F]{4})*"';

/** A non-negative integer as JSON writes it, at most 15 digits (exact as a double). */
export const jsonCountPattern = '(?:0|[1-9][0-9]{0,14})';

/**
 * A JSON string a pattern built from jsonStringPattern matched (quotes included), decoded; undefined
 * for none. The pattern has checked it against JSON's grammar, so one without a backslash is its
 * text as it stands, and one with a backslash is decoded by JSON.parse.
 */
export function matchedJsonString(literal: string | undefined): string | undefined {
  if (literal === undefined) return undefined;
  return literal.indexOf('\\') === -1 ? literal.slice(1, -1) : (JSON.parse(literal) as string);
}
