import type { AnthropicStreamEvent } from './messages-response.js';

/**
 * An Anthropic stream event as its SSE frame (`event: <type>`, `data: <json>`, blank line).
 *
 * The per-chunk events of a translated stream (content_block_delta and the block starts and stops
 * around it) are most of what a translated stream writes, and `JSON.stringify` of each event object
 * was a third of the translation's CPU per request (docs/benchmarks.md, "Translated streams"). They
 * are written here from string templates, with `JSON.stringify` only on the strings they carry (the
 * text delta, the partial JSON, an id or a name), which escapes them exactly as it would inside the
 * whole object. The bytes are the same as `JSON.stringify(event)` with the object's keys in the
 * order the type declares (stream-event-text.test.ts checks this over every translator fixture).
 * The once-per-stream events (message_start, message_delta, error) and anything unexpected go
 * through `JSON.stringify`: optional fields there (an absent `input_tokens`) must be left out the
 * way it leaves them out.
 */
export function anthropicStreamEventText(event: AnthropicStreamEvent): string {
  switch (event.type) {
    case 'content_block_delta': {
      const delta = event.delta;
      const head = `event: content_block_delta\ndata: {"type":"content_block_delta","index":${event.index},"delta":{"type":`;
      switch (delta.type) {
        case 'text_delta':
          return `${head}"text_delta","text":${JSON.stringify(delta.text)}}}\n\n`;
        case 'input_json_delta':
          return `${head}"input_json_delta","partial_json":${JSON.stringify(delta.partial_json)}}}\n\n`;
        case 'thinking_delta':
          return `${head}"thinking_delta","thinking":${JSON.stringify(delta.thinking)}}}\n\n`;
        default:
          return genericText(event);
      }
    }
    case 'content_block_start': {
      const block = event.content_block;
      const head = `event: content_block_start\ndata: {"type":"content_block_start","index":${event.index},"content_block":{"type":`;
      if (block.type === 'text' && block.text === '') return `${head}"text","text":""}}\n\n`;
      if (block.type === 'thinking' && block.thinking === '' && !('signature' in block)) return `${head}"thinking","thinking":""}}\n\n`;
      return genericText(event);
    }
    case 'content_block_stop':
      return `event: content_block_stop\ndata: {"type":"content_block_stop","index":${event.index}}\n\n`;
    case 'message_stop':
      return 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    case 'ping':
      return 'event: ping\ndata: {"type":"ping"}\n\n';
    default:
      return genericText(event);
  }
}

function genericText(event: AnthropicStreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
