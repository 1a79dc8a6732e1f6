import type { StreamTransformer } from './types.js';

/**
 * A pass-through OpenAI chat stream carries token usage only when the request has
 * `stream_options.include_usage`. The gateway needs it from every stream (usage accounting, budgets
 * settled with the real count), so it asks upstream on the client's behalf and, for a client that
 * did not ask, takes back out what asking added: the extra usage chunk, and the `"usage":null`
 * member OpenAI then puts at the end of every other chunk. That client sees the stream it would
 * have seen without the gateway.
 */

const injected = Buffer.from('"stream_options":{"include_usage":true},');
const openBrace = 0x7b;

/** True when the client's own body asks for the usage chunk. */
export function clientAskedForUsage(clientBody: Readonly<Record<string, unknown>>): boolean {
  const options = clientBody['stream_options'];
  return typeof options === 'object' && options !== null && (options as Record<string, unknown>)['include_usage'] === true;
}

/**
 * The upstream body with `include_usage` asked for. Without `stream_options` in the client's body
 * (the common case) the member is spliced in after the opening brace: one copy of the bytes, no
 * JSON serialisation (a 100 KB body costs ~1 ms to re-serialise, ~10 µs to copy). A body that has
 * `stream_options` without `include_usage` (rare) is re-serialised with it added.
 */
export function withUsageRequested(raw: Buffer, clientBody: Readonly<Record<string, unknown>>, upstreamModel: string, renamed: boolean): string | Buffer {
  const options = clientBody['stream_options'];
  if (renamed || (typeof options === 'object' && options !== null)) {
    const existing = typeof options === 'object' && options !== null ? options : {};
    return JSON.stringify({ ...clientBody, model: upstreamModel, stream_options: { ...existing, include_usage: true } });
  }
  const brace = raw.indexOf(openBrace);
  return Buffer.concat([raw.subarray(0, brace + 1), injected, raw.subarray(brace + 1)]);
}

const lineFeed = 0x0a;
const carriageReturn = 0x0d;
const eventEnd = Buffer.from('\n\n');
/** The end of an event whose lines end in CRLF (`\r\n\r\n`): its last three bytes. */
const crlfEventEnd = Buffer.from('\n\r\n');
const emptyChoices = Buffer.from('"choices":[]');
const dataStart = Buffer.from('data:');
/**
 * The member asked-for usage adds to every chunk, with the brace that closes the chunk. Only its
 * first 13 bytes go; the brace stays.
 */
const nullUsageMember = Buffer.from(',"usage":null}');
const nullUsageLength = nullUsageMember.length - 1;

/**
 * True when an event ends at `index` (`\n\n`, or `\r\n\r\n`): the byte before `index` was the
 * last of the event's data.
 */
function eventEndsAt(bytes: Buffer, index: number): boolean {
  const first = bytes[index];
  if (first === lineFeed) return bytes[index + 1] === lineFeed;
  return first === carriageReturn && bytes[index + 1] === lineFeed && bytes[index + 2] === carriageReturn && bytes[index + 3] === lineFeed;
}

/**
 * Removes the `,"usage":null` member that closes a chunk. Why a byte match is exact here: in JSON a
 * quote inside a string is always escaped (`\"`), so the bytes `,"usage":null}` (an unescaped quote
 * after the comma) can only be JSON structure, never text of a content string or of tool-call
 * arguments; and a match directly followed by the end of the event is the last member of the
 * chunk's top-level object (a chunk is one line of compact JSON). Anything else (a nested
 * `"usage":null`, spaces as in `"usage": null`, another member after it) is left as it is.
 */
function withoutNullUsage(complete: Buffer): Buffer {
  let at = complete.indexOf(nullUsageMember);
  if (at === -1) return complete;
  let parts: Buffer[] | undefined;
  let from = 0;
  while (at !== -1) {
    const after = at + nullUsageMember.length;
    if (eventEndsAt(complete, after)) {
      (parts ??= []).push(complete.subarray(from, at));
      from = at + nullUsageLength;
    }
    at = complete.indexOf(nullUsageMember, after);
  }
  if (parts === undefined) return complete;
  parts.push(complete.subarray(from));
  return Buffer.concat(parts);
}

/** Removes the usage chunk (the one with `"choices":[]`) the gateway asked for. */
function withoutUsageChunk(complete: Buffer): Buffer {
  const at = complete.indexOf(emptyChoices);
  if (at === -1) return complete;
  const start = complete.lastIndexOf(dataStart, at);
  const end = complete.indexOf(eventEnd, at);
  const crlfEnd = complete.indexOf(crlfEventEnd, at);
  const cut = end !== -1 && (crlfEnd === -1 || end < crlfEnd) ? end + eventEnd.length : crlfEnd === -1 ? -1 : crlfEnd + crlfEventEnd.length;
  if (start === -1 || cut === -1) return complete;
  return withoutUsageChunk(Buffer.concat([complete.subarray(0, start), complete.subarray(cut)]));
}

/**
 * Where the complete events of `bytes` end (after the last event end), or -1 when none has ended.
 * A piece that ends on an event end (the usual case: the upstream writes one event or a few at a
 * time) is answered without a search.
 */
function lastEventEnd(bytes: Buffer): number {
  const length = bytes.length;
  if (length >= 2 && bytes[length - 1] === lineFeed && (bytes[length - 2] === lineFeed || (bytes[length - 2] === carriageReturn && bytes[length - 3] === lineFeed))) return length;
  const lf = bytes.lastIndexOf(eventEnd);
  const crlf = bytes.lastIndexOf(crlfEventEnd);
  return Math.max(lf === -1 ? -1 : lf + eventEnd.length, crlf === -1 ? -1 : crlf + crlfEventEnd.length);
}

/**
 * Relays the bytes, minus what asking for usage added (see the top of this file). Only complete
 * events are examined: the bytes after a piece's last event end are held until the next piece
 * completes them (none when the upstream's pieces end on an event end, the usual case), so a
 * member split across two reads is matched whole. Per piece: one native search for the usage
 * chunk, one per `"usage":null` member found, and one copy when a member is removed; nothing is
 * parsed. Events may end in `\n\n` or `\r\n\r\n` (SSE allows both).
 */
export function createUsageChunkStripper(): StreamTransformer {
  let held: Buffer | undefined;
  const strip = (complete: Buffer): Buffer => withoutNullUsage(withoutUsageChunk(complete));
  return {
    push(piece) {
      const bytes = held === undefined ? piece : Buffer.concat([held, piece]);
      const cut = lastEventEnd(bytes);
      if (cut === -1) {
        held = Buffer.from(bytes);
        return '';
      }
      // Copied: the tail outlives this piece, whose memory the upstream side may reuse.
      held = cut === bytes.length ? undefined : Buffer.from(bytes.subarray(cut));
      return strip(cut === bytes.length ? bytes : bytes.subarray(0, cut));
    },
    flush() {
      const rest = held;
      held = undefined;
      return rest === undefined ? '' : strip(rest);
    },
    abort() {
      const rest = held;
      held = undefined;
      return rest ?? '';
    },
  };
}
