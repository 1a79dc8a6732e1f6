import { createSseParser, defaultMaxSseEventBytes, SseEventTooLargeError, type SseEvent, type SseParser } from '../sse.js';

/**
 * Reads a Gemini `streamGenerateContent` answer in either of its two framings and yields one event
 * per chunk (`data` = the chunk's JSON text, copied, never re-serialised):
 * - `?alt=sse`: SSE `data:` events (what the gateway asks for);
 * - without it: one JSON array written as it grows, `[{…}\r\n,{…}\r\n]` (what Gemini answers when
 *   `alt` is missing, and what some Gemini-compatible servers send whatever is asked).
 * The framing is decided by the first byte that is not whitespace: `[` is the array, anything else
 * SSE. The array is cut into its elements by a string-aware bracket count, bounded like SSE events
 * (8 MiB per element), so a hostile upstream cannot make the gateway buffer without limit.
 */
export interface GeminiStreamParser extends SseParser {
  /** The framing seen so far; undefined before the first byte that is not whitespace. */
  readonly framing: 'sse' | 'json-array' | undefined;
}

const openBracket = 0x5b;
const closeBracket = 0x5d;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const quote = 0x22;
const backslash = 0x5c;

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

export function createGeminiStreamParser(maxEventBytes: number = defaultMaxSseEventBytes): GeminiStreamParser {
  let framing: 'sse' | 'json-array' | undefined;
  let sse: SseParser | undefined;
  // JSON-array state: the element being read, its nesting depth and whether we are in a string.
  let element = '';
  let depth = 0;
  let inString = false;
  let escaped = false;

  function pushArray(piece: string, start: number): SseEvent[] {
    const events: SseEvent[] = [];
    let elementStart = depth > 0 ? start : -1;
    for (let index = start; index < piece.length; index++) {
      const code = piece.charCodeAt(index);
      if (inString) {
        if (escaped) escaped = false;
        else if (code === backslash) escaped = true;
        else if (code === quote) inString = false;
        continue;
      }
      if (depth === 0) {
        // Between elements: the opening `[`, commas, whitespace, the closing `]`.
        if (code === openBrace) {
          depth = 1;
          elementStart = index;
        }
        continue;
      }
      if (code === quote) inString = true;
      else if (code === openBrace || code === openBracket) depth++;
      else if (code === closeBrace || code === closeBracket) {
        depth--;
        if (depth === 0) {
          events.push({ event: undefined, data: element + piece.slice(elementStart, index + 1) });
          element = '';
          elementStart = -1;
        }
      }
    }
    if (depth > 0 && elementStart !== -1) element += piece.slice(elementStart);
    if (element.length > maxEventBytes) throw new SseEventTooLargeError(maxEventBytes);
    return events;
  }

  return {
    get framing() {
      return framing;
    },
    push(piece) {
      if (framing === 'sse') return (sse as SseParser).push(piece);
      if (framing === 'json-array') return pushArray(piece, 0);
      let first = 0;
      while (first < piece.length && isSpace(piece.charCodeAt(first))) first++;
      if (first === piece.length) return [];
      if (piece.charCodeAt(first) === openBracket) {
        framing = 'json-array';
        return pushArray(piece, first + 1);
      }
      framing = 'sse';
      sse = createSseParser(maxEventBytes);
      return sse.push(piece.slice(first));
    },
    flush() {
      if (framing === 'sse') return (sse as SseParser).flush();
      // An array cut before its end: the element in progress is incomplete and is not an event;
      // the translator then sees no finishReason and reports the stream as ended early.
      return [];
    },
  };
}
