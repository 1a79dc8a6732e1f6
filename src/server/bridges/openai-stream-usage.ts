import type { StreamTransformer } from './types.js';

/**
 * A pass-through OpenAI chat stream carries token usage only when the request has
 * `stream_options.include_usage`. The gateway needs it from every stream (usage accounting, budgets
 * settled with the real count), so it asks upstream on the client's behalf and takes the extra
 * usage chunk back out for a client that did not ask: that client sees the stream it would have
 * seen (apart from the `"usage":null` OpenAI then adds to each chunk, which reads as no usage).
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

const eventEnd = Buffer.from('\n\n');
const emptyChoices = Buffer.from('"choices":[]');
const dataStart = Buffer.from('data:');

/**
 * Relays the bytes, minus the usage chunk (the chunk with `"choices":[]`) the gateway asked for.
 * Only complete events are examined: the bytes after a piece's last event boundary are held until
 * the next piece completes them (none when the upstream's pieces end on a boundary, the usual case),
 * and one native search per piece finds the chunk; nothing is parsed.
 */
export function createUsageChunkStripper(): StreamTransformer {
  let held: Buffer | undefined;
  const strip = (complete: Buffer): Buffer => {
    const at = complete.indexOf(emptyChoices);
    if (at === -1) return complete;
    const start = complete.lastIndexOf(dataStart, at);
    const end = complete.indexOf(eventEnd, at);
    if (start === -1 || end === -1) return complete;
    return strip(Buffer.concat([complete.subarray(0, start), complete.subarray(end + eventEnd.length)]));
  };
  return {
    push(piece) {
      const bytes = held === undefined ? piece : Buffer.concat([held, piece]);
      const boundary = bytes.lastIndexOf(eventEnd);
      if (boundary === -1) {
        held = Buffer.from(bytes);
        return '';
      }
      const cut = boundary + eventEnd.length;
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
