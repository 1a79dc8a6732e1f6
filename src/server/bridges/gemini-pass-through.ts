import { StringDecoder } from 'node:string_decoder';
import { createGeminiStreamParser } from '../../formats/gemini/stream-parser.js';
import { encodeSseEvent, type SseEvent } from '../../formats/sse.js';
import { StreamTransformFailure, type BridgeContext, type FormatBridge, type StreamTransformer } from './types.js';

/**
 * A Gemini client (`@google/genai`, the Gemini CLI) served by a Gemini upstream. The model is in the
 * URL, not the body, so the client's body bytes go upstream as they are, always (an alias changes
 * the URL only); answers are relayed as the upstream's bytes. `thoughtSignature`s, unknown fields and
 * everything else survive both ways.
 *
 * Streams: the gateway asks upstream for SSE (`?alt=sse`). When the client asked for SSE too and
 * the upstream answers SSE, bytes are forwarded as they arrive. When the framings differ (the client
 * wants Gemini's JSON array; or an upstream answers an array whatever it was asked), each chunk's
 * JSON text is cut out and re-framed, copied, never re-serialised.
 */
export const geminiPassThroughBridge: FormatBridge = {
  name: 'gemini-pass-through',
  clientFormat: 'gemini',
  upstreamFormat: 'gemini',
  upstreamBody: (_context, raw) => raw,
  jsonResponse: (upstreamBody) => upstreamBody,
  relaysAnswerBytes: true,
  streamTransformer: (context) => createGeminiRelay(context),
};

function isSpace(code: number | undefined): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Relays a Gemini stream in the client's framing: bytes as they are when the framings agree, else re-framed chunk by chunk. */
function createGeminiRelay(context: BridgeContext): StreamTransformer {
  const wantsArray = context.streamFraming === 'json-array';
  let mode: 'undecided' | 'identity' | 'reframe' = 'undecided';
  const decoder = new StringDecoder('utf8');
  // Only a re-framed stream parses; one relayed as it is never needs the parser.
  let parser: ReturnType<typeof createGeminiStreamParser> | undefined;
  let elements = 0;
  const frame = (events: SseEvent[]): string => {
    let text = '';
    for (const event of events) {
      if (event.data.trim() === '') continue;
      if (!wantsArray) text += encodeSseEvent(event.data);
      else text += (elements === 0 ? '[' : ',\r\n') + event.data;
      elements++;
    }
    return text;
  };
  const reframe = (text: string): string => {
    try {
      parser ??= createGeminiStreamParser();
      return frame(parser.push(text));
    } catch (error) {
      throw new StreamTransformFailure('', error);
    }
  };
  const relay: StreamTransformer = {
    push(piece) {
      if (mode === 'identity') return piece;
      if (mode === 'undecided') {
        let first = 0;
        while (first < piece.length && isSpace(piece[first])) first++;
        if (first === piece.length) return '';
        const upstreamArray = piece[first] === 0x5b;
        mode = upstreamArray === wantsArray ? 'identity' : 'reframe';
        if (mode === 'identity') return piece;
      }
      return reframe(decoder.write(piece));
    },
    flush() {
      if (mode === 'identity') return '';
      if (mode === 'undecided') return wantsArray ? '[]' : '';
      let text = reframe(decoder.end());
      text += frame((parser ??= createGeminiStreamParser()).flush());
      return wantsArray ? (elements === 0 ? `${text}[]` : `${text}]`) : text;
    },
    abort: () => '',
  };
  if (!wantsArray) return relay;
  return {
    ...relay,
    contentType: 'application/json; charset=utf-8',
    // In identity mode the upstream's own array is relayed: its error element follows a comma when
    // anything was relayed; re-framed, the count says.
    errorEvent: (errorBody) => `${mode === 'reframe' ? (elements === 0 ? '[' : ',\r\n') : mode === 'identity' ? ',\r\n' : '['}${JSON.stringify(errorBody)}]`,
  };
}
