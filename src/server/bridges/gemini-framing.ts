import { encodeSseEvent, type SseEvent } from '../../formats/sse.js';
import type { GeminiGenerateContentResponse } from '../../formats/gemini/generate-content-response.js';
import { geminiChunkText } from '../../formats/gemini/stream-chunk-text.js';
import { createSseTransformer } from './sse-transformer.js';
import type { BridgeContext, StreamTransformer } from './types.js';

/** One Gemini chunk as an unnamed SSE `data:` event (`?alt=sse`). */
const encodeGeminiSseChunk = (chunk: GeminiGenerateContentResponse): string => encodeSseEvent(geminiChunkText(chunk));

/** A pure stream translator producing Gemini chunks from upstream SSE events. */
interface GeminiChunkTranslator {
  push(event: SseEvent): GeminiGenerateContentResponse[];
  flush(): GeminiGenerateContentResponse[];
  abort(): GeminiGenerateContentResponse[];
}

/**
 * Frames Gemini chunks for the client. With `?alt=sse` (what the `@google/genai` SDK and the Gemini
 * CLI ask for) each chunk is an unnamed `data:` event. Without it, Gemini answers with one JSON
 * array written as it grows: `[` before the first chunk, `,\r\n` between chunks, `]` at the end, so
 * a reader that waits for the whole body gets valid JSON. Each chunk is serialised once, the text
 * chunks from a template (formats/gemini/stream-chunk-text.ts).
 */
export function createGeminiStreamTransformer(translator: GeminiChunkTranslator, context: BridgeContext): StreamTransformer {
  if (context.streamFraming === 'sse') return createSseTransformer(translator, encodeGeminiSseChunk);
  let opened = false;
  const element = (chunk: GeminiGenerateContentResponse): string => {
    const prefix = opened ? ',\r\n' : '[';
    opened = true;
    return prefix + geminiChunkText(chunk);
  };
  const inner = createSseTransformer(translator, element);
  return {
    contentType: 'application/json; charset=utf-8',
    push: (piece) => inner.push(piece),
    pushEvents: (events) => inner.pushEvents(events),
    flush: () => {
      const text = inner.flush() as string;
      // An answer with no chunk at all is still an array.
      return opened ? `${text}]` : `${text}[]`;
    },
    abort: () => inner.abort(),
    // The error is the array's last element, so the body stays valid JSON for a whole-body reader.
    errorEvent: (errorBody) => `${opened ? ',\r\n' : '['}${JSON.stringify(errorBody)}]`,
  };
}
