import type { SseEvent } from '../../formats/sse.js';
import type { WireFormat } from '../../formats/wire-format.js';

/** What a bridge knows about one exchange; fixed before the upstream call. */
export interface BridgeContext {
  /** The model name the client asked for (an alias, a provider name, or `provider/model`). */
  requestedModel: string;
  /**
   * The provider's own model name: sent upstream, and what translated answers report when the
   * upstream's answer names no model (answers carry the name the upstream reports).
   */
  upstreamModel: string;
  /** Seconds since the epoch, for OpenAI's `created`. */
  created: number;
  requestId: string;
  /** The validated client body. */
  clientBody: Record<string, unknown>;
  /** Whether the client asked for a stream (Gemini says so by path, not in the body). */
  stream: boolean;
  /**
   * How streamed answers are framed for the client: SSE for every surface, except Gemini's
   * `streamGenerateContent` without `?alt=sse`, which answers with one JSON array written as it grows.
   */
  streamFraming: 'sse' | 'json-array';
}

/**
 * Turns upstream stream bytes into client stream bytes. `push` may return '' when a piece completes
 * no event. `push` and `flush` throw a StreamTransformFailure when the upstream reports an error
 * mid-stream or ends early; `abort` drains what is held when the upstream connection breaks.
 */
export interface StreamTransformer {
  push(piece: Buffer): string | Buffer;
  /**
   * Events already cut and parsed, instead of bytes: what a composed bridge's client half gets from
   * its upstream half (SseEventSource). Absent on a transformer that reads bytes only; the composed
   * bridge then writes the pivot as text.
   */
  pushEvents?(events: SseEvent[]): string | Buffer;
  flush(): string | Buffer;
  /** The upstream failed: output still held for the client (never throws). */
  abort(): string | Buffer;
  /**
   * The client's error event after a failure part-way, when the framing is not SSE (Gemini's JSON
   * array must be closed after it); absent = the path's SSE error event (`streamErrorEvent`).
   */
  errorEvent?(errorBody: Record<string, unknown>): string;
  /** The stream's content type when it is not SSE (`application/json` for Gemini's JSON array). */
  readonly contentType?: string;
}

/**
 * A stream failure part-way. `output` is what the client must get before the error event (the
 * translation of the events before the failure in the same piece, and what the translator held);
 * `cause` is the failure (a GatewayError from the translator, or a parser error).
 */
export class StreamTransformFailure extends Error {
  constructor(
    readonly output: string,
    override readonly cause: unknown,
  ) {
    super('the upstream stream failed part-way');
    this.name = 'StreamTransformFailure';
  }
}

/**
 * The upstream half of a composed bridge, handing on events instead of text (sse-transformer.ts,
 * createSseEventSource): the same contract as StreamTransformer, with SseEventsFailure in place of
 * StreamTransformFailure.
 */
export interface SseEventSource {
  push(piece: Buffer): SseEvent[];
  flush(): SseEvent[];
  abort(): SseEvent[];
}

/** A failure part-way in an SseEventSource: the events the client half must still get, and the cause. */
export class SseEventsFailure extends Error {
  constructor(
    readonly events: SseEvent[],
    override readonly cause: unknown,
  ) {
    super('the upstream stream failed part-way');
    this.name = 'SseEventsFailure';
  }
}

/**
 * One (client format, upstream format) pair. Same-format bridges forward bytes; translating
 * bridges call the pure translators in `src/translate/`.
 */
export interface FormatBridge {
  /** For the per-request record: `openai-chat-pass-through`, `openai-chat-to-anthropic-messages`, … */
  readonly name: string;
  readonly clientFormat: WireFormat;
  readonly upstreamFormat: WireFormat;
  /** The upstream request body. `raw` is the client's original bytes, forwarded untouched when possible. */
  upstreamBody(context: BridgeContext, raw: Buffer, options: { defaultMaxTokens: number }): string | Buffer;
  /**
   * A non-streamed upstream answer turned into the client's format. `answer` is `upstreamBody`
   * parsed once by the pipeline (which refused it if it was not JSON); same-format bridges return
   * the bytes untouched (and get no parse: see `relaysAnswerBytes`).
   */
  jsonResponse(upstreamBody: Buffer, answer: unknown, context: BridgeContext): string | Buffer;
  /**
   * True for a bridge whose client answer is the upstream's bytes: the pipeline then does not parse
   * the answer (`answer` is undefined), it checks it by its ends and reads its usage from its end
   * (answer-scan.ts).
   */
  readonly relaysAnswerBytes?: true;
  /**
   * True for a bridge whose `jsonResponse` reads the client's request (`context.clientBody`): a
   * Responses answer echoes the request's fields. The pipeline keeps the parsed body for it until
   * the answer is built; every other bridge's is let go once the upstream body is built.
   */
  readonly answerReadsRequest?: true;
  /**
   * Parses a non-streamed upstream answer instead of `JSON.parse` (the default, parseUpstreamJson):
   * a Responses upstream always streams, so its "JSON" answer is an event stream whose
   * `response.completed` carries the response (bridges/codex-answer.ts). Throws a GatewayError.
   */
  readonly parseAnswer?: (upstreamBody: Buffer) => unknown;
  streamTransformer(context: BridgeContext): StreamTransformer;
  /**
   * For a bridge to a chat client that is the upstream half of a composed bridge: its stream as chat
   * chunk events carrying the chunk objects, the `[DONE]` event last, in place of the text
   * streamTransformer writes (the client half would only parse that text again). Absent: the
   * composed bridge uses streamTransformer's text.
   */
  chatEventSource?(context: BridgeContext): SseEventSource;
}
