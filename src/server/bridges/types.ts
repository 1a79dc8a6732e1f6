import type { WireFormat } from '../../formats/wire-format.js';

/** What a bridge knows about one exchange; fixed before the upstream call. */
export interface BridgeContext {
  /** The model name the client asked for (an alias stays an alias in what the client sees). */
  requestedModel: string;
  /** The provider's own model name. */
  upstreamModel: string;
  /** Seconds since the epoch, for OpenAI's `created`. */
  created: number;
  requestId: string;
  /** The validated client body. */
  clientBody: Record<string, unknown>;
}

/**
 * Turns upstream stream bytes into client stream bytes. `push` may return '' when a piece completes
 * no event. Throws a GatewayError when the upstream reports an error mid-stream or ends early.
 */
export interface StreamTransformer {
  push(piece: Buffer): string | Buffer;
  flush(): string | Buffer;
}

/**
 * One (client format, upstream format) pair. Same-format bridges forward bytes; translating
 * bridges call the pure translators in `src/translate/`.
 */
export interface FormatBridge {
  readonly clientFormat: WireFormat;
  readonly upstreamFormat: WireFormat;
  /** The upstream request body. `raw` is the client's original bytes, forwarded untouched when possible. */
  upstreamBody(context: BridgeContext, raw: Buffer, options: { defaultMaxTokens: number }): string | Buffer;
  /** A non-streamed upstream answer turned into the client's format. */
  jsonResponse(upstreamBody: Buffer, context: BridgeContext): string | Buffer;
  streamTransformer(context: BridgeContext): StreamTransformer;
}
