import { StringDecoder } from 'node:string_decoder';
import { anthropicStreamEventText } from '../../formats/anthropic/stream-event-text.js';
import { createSseParser, encodeSseEvent, type SseEvent, type SseParser } from '../../formats/sse.js';
import { StreamTransformFailure, type StreamTransformer } from './types.js';

/**
 * Adapts a pure event translator (SSE events in, typed events out) to bytes in, SSE text out.
 * The StringDecoder keeps a multi-byte UTF-8 character split across two TCP pieces intact.
 *
 * One upstream piece often carries several events, the upstream's error event among them. When
 * the translator throws part-way through a piece, what it produced from the earlier events of that
 * piece, and whatever it still holds (`abort()`), travels in a StreamTransformFailure: the client
 * gets everything received before the failure, then the error.
 */
export function createSseTransformer<Output>(
  translator: { push(event: SseEvent): Output[]; flush(): Output[]; abort(): Output[] },
  encode: (output: Output) => string,
  /** How upstream text is cut into events: SSE, or for a Gemini upstream either of its framings (formats/gemini/stream-parser.ts). */
  parser: SseParser = createSseParser(),
): StreamTransformer {
  const decoder = new StringDecoder('utf8');
  const render = (outputs: Output[]): string => {
    let text = '';
    for (const output of outputs) text += encode(output);
    return text;
  };
  const failed = (textSoFar: string, error: unknown): StreamTransformFailure => new StreamTransformFailure(textSoFar + render(translator.abort()), error);
  return {
    push(piece) {
      let text = '';
      try {
        for (const event of parser.push(decoder.write(piece))) text += render(translator.push(event));
      } catch (error) {
        throw failed(text, error);
      }
      return text;
    },
    flush() {
      let text = '';
      try {
        for (const event of parser.push(decoder.end())) text += render(translator.push(event));
        for (const event of parser.flush()) text += render(translator.push(event));
        return text + render(translator.flush());
      } catch (error) {
        throw failed(text, error);
      }
    },
    abort: () => render(translator.abort()),
  };
}

/**
 * What the client must still get before the error event, and the failure itself: a
 * StreamTransformFailure carries both; any other error (the upstream connection broke) leaves the
 * transformer's held output to drain.
 */
export function outputBeforeFailure(transformer: StreamTransformer, error: unknown): { output: string | Buffer; cause: unknown } {
  if (error instanceof StreamTransformFailure) return { output: error.output, cause: error.cause };
  return { output: transformer.abort(), cause: error };
}

/** OpenAI chunks are unnamed `data:` events. */
export const encodeOpenAIChunk = (chunk: unknown): string => encodeSseEvent(JSON.stringify(chunk));

/** Anthropic events carry their type as the SSE event name; the per-chunk ones are written from templates. */
export const encodeAnthropicEvent = anthropicStreamEventText;
