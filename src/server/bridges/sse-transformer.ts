import { StringDecoder } from 'node:string_decoder';
import { createSseParser, encodeSseEvent, type SseEvent } from '../../formats/sse.js';
import type { StreamTransformer } from './types.js';

/**
 * Adapts a pure event translator (SSE events in, typed events out) to bytes in, SSE text out.
 * The StringDecoder keeps a multi-byte UTF-8 character split across two TCP pieces intact.
 */
export function createSseTransformer<Output>(
  translator: { push(event: SseEvent): Output[]; flush(): Output[] },
  encode: (output: Output) => string,
): StreamTransformer {
  const decoder = new StringDecoder('utf8');
  const parser = createSseParser();
  const render = (outputs: Output[]): string => {
    let text = '';
    for (const output of outputs) text += encode(output);
    return text;
  };
  return {
    push(piece) {
      let text = '';
      for (const event of parser.push(decoder.write(piece))) text += render(translator.push(event));
      return text;
    },
    flush() {
      let text = '';
      for (const event of parser.push(decoder.end())) text += render(translator.push(event));
      for (const event of parser.flush()) text += render(translator.push(event));
      return text + render(translator.flush());
    },
  };
}

/** OpenAI chunks are unnamed `data:` events. */
export const encodeOpenAIChunk = (chunk: unknown): string => encodeSseEvent(JSON.stringify(chunk));

/** Anthropic events carry their type as the SSE event name. */
export const encodeAnthropicEvent = (event: { type: string }): string => encodeSseEvent(JSON.stringify(event), event.type);
