import type { ResponsesAnswerContext } from '../../formats/responses/response-builder.js';
import type { ResponsesRequest } from '../../formats/responses/request.js';
import type { ResponsesStreamEvent, ResponsesStreamWriter } from '../../formats/responses/stream-writer.js';
import { createResponsesEventEncoder } from '../../formats/responses/stream-event-text.js';
import type { SseEvent } from '../../formats/sse.js';
import { createSseTransformer } from './sse-transformer.js';
import type { BridgeContext, StreamTransformer } from './types.js';

/**
 * What the two bridges from a Responses client share: the answer context (response id, creation
 * time, the request echoed back) and the stream framing, where each `response.*` event carries its
 * type as the SSE event name, as the API sends them.
 */

/** `resp_` + the request id's letters and digits: unique per exchange, and nothing else goes in it. */
export function responsesAnswerContext(context: BridgeContext): ResponsesAnswerContext {
  return {
    responseId: `resp_${context.requestId.replace(/[^A-Za-z0-9]/g, '').slice(0, 48)}`,
    createdAt: context.created,
    model: context.upstreamModel,
    request: context.clientBody as ResponsesRequest,
  };
}

/**
 * The SSE transformer of a translating bridge to a Responses client. A failure part-way ends the
 * stream with `response.failed` from the same writer (its sequence number follows the last event,
 * its output holds the items completed so far), which Codex CLI and the SDK both read as the end.
 */
export function createResponsesStreamTransformer(
  translator: { push(event: SseEvent): ResponsesStreamEvent[]; flush(): ResponsesStreamEvent[]; abort(): ResponsesStreamEvent[]; readonly writer: ResponsesStreamWriter },
): StreamTransformer {
  const { writer } = translator;
  // Each `response.*` event carries its type as the SSE event name; the deltas are written from
  // templates, and one stream's encoder writes a response object shared by two events once.
  const encodeResponsesEvent = createResponsesEventEncoder();
  const inner = createSseTransformer(translator, encodeResponsesEvent);
  return {
    push: (piece) => inner.push(piece),
    pushEvents: (events) => inner.pushEvents(events),
    flush: () => inner.flush(),
    abort: () => inner.abort(),
    errorEvent(errorBody) {
      const error = (errorBody['error'] ?? {}) as { code?: unknown; message?: unknown };
      const code = typeof error.code === 'string' ? error.code : 'GW_UPSTREAM_STREAM_FAILED';
      const message = typeof error.message === 'string' ? error.message : 'The upstream stream failed part-way.';
      return writer.fail(code, message).map(encodeResponsesEvent).join('');
    },
  };
}
