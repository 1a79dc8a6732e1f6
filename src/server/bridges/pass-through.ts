import type { WireFormat } from '../../formats/wire-format.js';
import { clientAskedForUsage, createUsageChunkStripper, withUsageRequested } from './openai-stream-usage.js';
import type { FormatBridge, StreamTransformer } from './types.js';

const identityStream: StreamTransformer = {
  push: (piece) => piece,
  flush: () => '',
  abort: () => '', // bytes are forwarded as they arrive: nothing is ever held
};

/**
 * The body for an upstream that speaks the client's format. The client's bytes go upstream
 * unchanged unless the model name must be rewritten (an alias or a `provider/model` prefix):
 * re-serialising a 100 KB body costs about a millisecond, so it happens only when the upstream
 * would otherwise see a name it does not know.
 */
export function sameFormatBody(
  raw: Buffer,
  clientBody: Readonly<Record<string, unknown>>,
  requestedModel: string,
  upstreamModel: string,
): string | Buffer {
  return upstreamModel === requestedModel ? raw : JSON.stringify({ ...clientBody, model: upstreamModel });
}

/**
 * Same format in and out: bytes forwarded (see sameFormatBody), answers relayed untouched. An
 * OpenAI chat stream is the exception: its usage is asked for upstream when the client did not ask
 * (openai-stream-usage.ts), and what asking added (the usage chunk, each chunk's `"usage":null`) is
 * taken out of what the client gets.
 */
export function createPassThroughBridge(format: WireFormat): FormatBridge {
  const openaiChat = format === 'openai-chat';
  return {
    name: `${format}-pass-through`,
    clientFormat: format,
    upstreamFormat: format,
    upstreamBody: (context, raw) =>
      openaiChat && context.stream && !clientAskedForUsage(context.clientBody)
        ? withUsageRequested(raw, context.clientBody, context.upstreamModel, context.upstreamModel !== context.requestedModel)
        : sameFormatBody(raw, context.clientBody, context.requestedModel, context.upstreamModel),
    // Relayed byte for byte; the pipeline checked it first (an HTML page is a 502, not a 200).
    jsonResponse: (upstreamBody) => upstreamBody,
    relaysAnswerBytes: true,
    streamTransformer: (context) => (openaiChat && !clientAskedForUsage(context.clientBody) ? createUsageChunkStripper() : identityStream),
  };
}
