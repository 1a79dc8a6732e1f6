import { StringDecoder } from 'node:string_decoder';
import { anthropicStreamEventText } from '../../formats/anthropic/stream-event-text.js';
import { createSseParser, encodeSseEvent, type SseEvent, type SseParser } from '../../formats/sse.js';
import { SseEventsFailure, StreamTransformFailure, type SseEventSource, type StreamTransformer } from './types.js';

/**
 * Adapts a pure event translator (SSE events in, typed events out) to bytes in, SSE text out
 * (`pushEvents`: events already cut, from a composed bridge's upstream half, in place of bytes).
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
): StreamTransformer & { pushEvents(events: SseEvent[]): string } {
  const decoder = new StringDecoder('utf8');
  const render = (outputs: Output[]): string => {
    let text = '';
    for (const output of outputs) text += encode(output);
    return text;
  };
  const failed = (textSoFar: string, error: unknown): StreamTransformFailure => new StreamTransformFailure(textSoFar + render(translator.abort()), error);
  const pushEvents = (events: SseEvent[]): string => {
    let text = '';
    try {
      for (const event of events) text += render(translator.push(event));
    } catch (error) {
      throw failed(text, error);
    }
    return text;
  };
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
    pushEvents,
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
 * The upstream half of a composed bridge (composed-bridge.ts): upstream bytes in, the translator's
 * chat chunks out as events carrying the chunk objects (`parsed`), never written as text. The same
 * decoding, cutting and failure rules as createSseTransformer; `closing` (the `[DONE]` event) follows
 * a successful flush, as the bridge's text transformer writes `data: [DONE]` after its flush. A
 * failure part-way throws an SseEventsFailure with the events before it and what the translator
 * held (its abort()), as createSseTransformer's failure carries them as text.
 */
export function createSseEventSource(
  translator: { push(event: SseEvent): object[]; flush(): object[]; abort(): object[] },
  closing: readonly SseEvent[],
  parser: SseParser = createSseParser(),
): SseEventSource {
  const decoder = new StringDecoder('utf8');
  const collect = (outputs: object[], into: SseEvent[]): void => {
    for (const parsed of outputs) into.push({ event: undefined, data: '', parsed });
  };
  const failed = (eventsSoFar: SseEvent[], error: unknown): SseEventsFailure => {
    collect(translator.abort(), eventsSoFar);
    return new SseEventsFailure(eventsSoFar, error);
  };
  return {
    push(piece) {
      const events: SseEvent[] = [];
      try {
        for (const event of parser.push(decoder.write(piece))) collect(translator.push(event), events);
      } catch (error) {
        throw failed(events, error);
      }
      return events;
    },
    flush() {
      const events: SseEvent[] = [];
      try {
        for (const event of parser.push(decoder.end())) collect(translator.push(event), events);
        for (const event of parser.flush()) collect(translator.push(event), events);
        collect(translator.flush(), events);
      } catch (error) {
        throw failed(events, error);
      }
      events.push(...closing);
      return events;
    },
    abort() {
      const events: SseEvent[] = [];
      collect(translator.abort(), events);
      return events;
    },
  };
}

/** The `[DONE]` that ends a chat stream, as an event. */
export const chatStreamDone: readonly SseEvent[] = [{ event: undefined, data: '[DONE]' }];

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
