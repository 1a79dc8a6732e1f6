import { responsesAnswerFromBody } from './codex-answer.js';
import { sameFormatBody } from './pass-through.js';
import type { FormatBridge, StreamTransformer } from './types.js';

const identityStream: StreamTransformer = { push: (piece) => piece, flush: () => '', abort: () => '' };

/**
 * A Responses client (Codex CLI, the SDK's `responses.create`) served by a Responses upstream (the
 * `codex` type). A streamed request goes up as the client's bytes (re-serialised only to rename the
 * model, as every pass-through) and its stream comes back byte for byte, through the secret stream
 * redactor like every stream. A non-streamed one is sent with `stream: true` (the ChatGPT backend
 * serves only streams) and answered with the `response` object of `response.completed`.
 */
export const responsesPassThroughBridge: FormatBridge = {
  name: 'openai-responses-pass-through',
  clientFormat: 'openai-responses',
  upstreamFormat: 'openai-responses',
  upstreamBody(context, raw) {
    if (context.stream) return sameFormatBody(raw, context.clientBody, context.requestedModel, context.upstreamModel);
    return JSON.stringify({ ...context.clientBody, model: context.upstreamModel, stream: true });
  },
  parseAnswer: responsesAnswerFromBody,
  jsonResponse: (_upstreamBody, answer) => JSON.stringify(answer),
  streamTransformer: () => identityStream,
};
