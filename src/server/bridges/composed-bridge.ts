import type { OpenAIChatRequest } from '../../formats/openai/chat-request.js';
import type { SseEvent } from '../../formats/sse.js';
import { SseEventsFailure, StreamTransformFailure, type BridgeContext, type FormatBridge, type SseEventSource, type StreamTransformer } from './types.js';

/**
 * A bridge made of two: the client's format → OpenAI chat (`clientSide`), then OpenAI chat → the
 * upstream's format (`upstreamSide`). Used where no direct translator pair exists (Anthropic and
 * Gemini clients of a Responses upstream): chat is the pivot every format already translates to
 * and from, and each half is a tested bridge. The cost is a second translation of each request,
 * answer and stream event (benchmarks.md measures it); a direct pair can replace it without
 * changing anything else. Translators stay pure and never import each other: the composition is
 * here, in the server.
 *
 * The chat request built for the upstream side is kept per exchange (the same BridgeContext object
 * goes to every member for one request), so the answer and the stream are translated back with
 * the chat request the upstream side actually saw.
 */
export function composeBridges(clientSide: FormatBridge, upstreamSide: FormatBridge): FormatBridge {
  const chatRequests = new WeakMap<BridgeContext, OpenAIChatRequest>();
  const innerContext = (context: BridgeContext): BridgeContext => ({
    ...context,
    requestedModel: context.upstreamModel,
    clientBody: chatRequests.get(context) ?? {},
    streamFraming: 'sse',
  });
  const text = (output: string | Buffer): string => (typeof output === 'string' ? output : output.toString('utf8'));
  const member: FormatBridge = {
    name: `${clientSide.clientFormat}-to-${upstreamSide.upstreamFormat}`,
    clientFormat: clientSide.clientFormat,
    upstreamFormat: upstreamSide.upstreamFormat,
    upstreamBody(context, raw, options) {
      const chatText = text(clientSide.upstreamBody(context, raw, options));
      chatRequests.set(context, JSON.parse(chatText) as OpenAIChatRequest);
      return upstreamSide.upstreamBody(innerContext(context), Buffer.from(chatText), options);
    },
    jsonResponse(upstreamBody, answer, context) {
      const chatText = text(upstreamSide.jsonResponse(upstreamBody, answer, innerContext(context)));
      return clientSide.jsonResponse(Buffer.from(chatText), JSON.parse(chatText) as unknown, context);
    },
    streamTransformer(context) {
      const second = clientSide.streamTransformer(context);
      if (upstreamSide.chatEventSource !== undefined && second.pushEvents !== undefined) {
        return composeEventStreams(upstreamSide.chatEventSource(innerContext(context)), second, second.pushEvents.bind(second));
      }
      return composeStreams(upstreamSide.streamTransformer(innerContext(context)), second);
    },
    // The upstream side reads the upstream's answer (an event stream for a Responses upstream).
    ...(upstreamSide.parseAnswer === undefined ? {} : { parseAnswer: upstreamSide.parseAnswer }),
    // The client side builds the client's answer, and may read the request to do so.
    ...(clientSide.answerReadsRequest === true ? { answerReadsRequest: true as const } : {}),
  };
  return member;
}

/**
 * Upstream bytes → `first` → chat chunk objects → `second` → client bytes: the pivot without its
 * text. Writing each chat chunk as JSON and parsing it again in the second half was about half of a
 * chained stream's CPU (docs/benchmarks.md, "Chained translations"); here the second half reads the
 * chunk objects as they are (SseEvent `parsed`). Every step, failures included, is composeStreams'
 * with events in place of text; composed-bridge.test.ts checks that both give the same bytes.
 */
function composeEventStreams(first: SseEventSource, second: StreamTransformer, pushEvents: (events: SseEvent[]) => string | Buffer): StreamTransformer {
  const through = (run: () => SseEvent[]): string | Buffer => {
    let middle: SseEvent[];
    try {
      middle = run();
    } catch (error) {
      if (!(error instanceof SseEventsFailure)) throw error;
      throw new StreamTransformFailure(secondHalfThenAbort(second, () => pushEvents(error.events)), error.cause);
    }
    return pushEvents(middle);
  };
  return composedTransformer(first, second, through, () => pushEvents(first.abort()));
}

/**
 * Upstream bytes → `first` → chat SSE text → `second` → client bytes (when the upstream half has
 * no chatEventSource, or the client half reads bytes only). A failure part-way in the
 * first half carries the chat text produced before it; that text still goes through the second
 * half, so the client gets everything before the failure, then the error (as with one bridge).
 */
function composeStreams(first: StreamTransformer, second: StreamTransformer): StreamTransformer {
  const through = (run: () => string | Buffer): string | Buffer => {
    let middle: string | Buffer;
    try {
      middle = run();
    } catch (error) {
      if (!(error instanceof StreamTransformFailure)) throw error;
      throw new StreamTransformFailure(secondHalfThenAbort(second, () => second.push(Buffer.from(error.output))), error.cause);
    }
    return second.push(typeof middle === 'string' ? Buffer.from(middle) : middle);
  };
  return composedTransformer(first, second, through, () => second.push(Buffer.from(String(first.abort()))));
}

/**
 * The composed transformer both pivots share: each piece and the flush go through `through` (the
 * first half, then the hand-over to the second), the abort hands the first half's last output over
 * (`handOverAbort`) and ends with the second half's abort; the error event and content type are
 * the second half's (the client's format).
 */
function composedTransformer<Middle>(
  first: { push(piece: Buffer): Middle; flush(): Middle },
  second: StreamTransformer,
  through: (run: () => Middle) => string | Buffer,
  handOverAbort: () => string | Buffer,
): StreamTransformer {
  const composed: StreamTransformer = {
    push: (piece) => through(() => first.push(piece)),
    flush: () => `${String(through(() => first.flush()))}${String(second.flush())}`,
    abort: () => secondHalfThenAbort(second, handOverAbort),
  };
  if (second.errorEvent !== undefined) composed.errorEvent = second.errorEvent.bind(second);
  if (second.contentType !== undefined) return { ...composed, contentType: second.contentType };
  return composed;
}

/**
 * What the second half makes of a hand-over (its output, or the output a failure in it carried),
 * then the second half's abort: the end of a composed stream that failed or was aborted.
 */
function secondHalfThenAbort(second: StreamTransformer, handOver: () => string | Buffer): string {
  let output = '';
  try {
    output = String(handOver());
  } catch (error) {
    if (error instanceof StreamTransformFailure) output = error.output;
  }
  return output + String(second.abort());
}
