/**
 * Pieces of regular expressions (as source text) for the scans that read an upstream's stream
 * events without JSON.parse (responses/stream-event-scan.ts, gemini/stream-chunk-scan.ts). Each
 * matches exactly what JSON's grammar allows in its place, so what a scan accepts JSON.parse reads
 * the same way.
 */

/** A JSON string, quotes included: no raw quote, backslash or control character but in a valid escape. */
export const jsonStringPattern = '"(?:[^"\\\\\\x00-\\x1f]|\\\\["\\\\/bfnrt]|\\\\u[0-9a-fA-F]{4})*"';

/** A non-negative integer as JSON writes it, at most 15 digits (exact as a double). */
export const jsonCountPattern = '(?:0|[1-9][0-9]{0,14})';
