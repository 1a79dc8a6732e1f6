import { createGeminiStreamParser } from '../../formats/gemini/stream-parser.js';
import type { OpenAIChatRequest } from '../../formats/openai/chat-request.js';
import { translateOpenAIRequestToGemini } from '../../translate/openai-to-gemini/request.js';
import { translateGeminiResponseToOpenAI } from '../../translate/openai-to-gemini/response.js';
import { createGeminiToOpenAIStreamTranslator, type GeminiToOpenAIStreamTranslator } from '../../translate/openai-to-gemini/stream.js';
import { chatStreamDone, createSseEventSource, createSseTransformer, encodeOpenAIChunk } from './sse-transformer.js';
import type { BridgeContext, FormatBridge } from './types.js';

const done = 'data: [DONE]\n\n';

/** An OpenAI client (SDK, Codex, Cursor) served by a Gemini upstream; its stream read in either Gemini framing. */
export const openaiToGeminiBridge: FormatBridge = {
  name: 'openai-chat-to-gemini',
  clientFormat: 'openai-chat',
  upstreamFormat: 'gemini',
  upstreamBody(context) {
    return JSON.stringify(translateOpenAIRequestToGemini(context.clientBody as OpenAIChatRequest));
  },
  jsonResponse(_upstreamBody, answer, context) {
    return JSON.stringify(translateGeminiResponseToOpenAI(answer, { model: context.upstreamModel, created: context.created, requestId: context.requestId }));
  },
  streamTransformer(context) {
    const inner = createSseTransformer(streamTranslator(context), encodeOpenAIChunk, createGeminiStreamParser());
    return { push: (piece) => inner.push(piece), flush: () => `${inner.flush() as string}${done}`, abort: () => inner.abort() };
  },
  chatEventSource: (context) => createSseEventSource(streamTranslator(context), chatStreamDone, createGeminiStreamParser()),
};

function streamTranslator(context: BridgeContext): GeminiToOpenAIStreamTranslator {
  const request = context.clientBody as OpenAIChatRequest;
  return createGeminiToOpenAIStreamTranslator({
    model: context.upstreamModel,
    created: context.created,
    requestId: context.requestId,
    includeUsage: request.stream_options?.include_usage === true,
  });
}
