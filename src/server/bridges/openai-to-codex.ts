import type { OpenAIChatRequest } from '../../formats/openai/chat-request.js';
import { translateOpenAIRequestToResponses } from '../../translate/openai-to-responses/request.js';
import { translateResponsesResponseToOpenAI } from '../../translate/openai-to-responses/response.js';
import { createResponsesToOpenAIStreamTranslator, type ResponsesToOpenAIStreamTranslator } from '../../translate/openai-to-responses/stream.js';
import { responsesAnswerFromBody } from './codex-answer.js';
import { chatStreamDone, createSseEventSource, createSseTransformer, encodeOpenAIChunk } from './sse-transformer.js';
import type { BridgeContext, FormatBridge } from './types.js';

const done = 'data: [DONE]\n\n';

/**
 * An OpenAI chat client served by a Responses upstream (the `codex` type). The upstream request
 * always streams; a non-streamed client gets the chat completion built from `response.completed`.
 */
export const openaiToCodexBridge: FormatBridge = {
  name: 'openai-chat-to-openai-responses',
  clientFormat: 'openai-chat',
  upstreamFormat: 'openai-responses',
  upstreamBody(context) {
    return JSON.stringify(translateOpenAIRequestToResponses(context.clientBody as OpenAIChatRequest, { upstreamModel: context.upstreamModel }));
  },
  parseAnswer: responsesAnswerFromBody,
  jsonResponse(_upstreamBody, answer, context) {
    return JSON.stringify(translateResponsesResponseToOpenAI(answer, { model: context.upstreamModel, created: context.created }));
  },
  streamTransformer(context) {
    const inner = createSseTransformer(streamTranslator(context), encodeOpenAIChunk);
    return { push: (piece) => inner.push(piece), flush: () => `${inner.flush() as string}${done}`, abort: () => inner.abort() };
  },
  chatEventSource: (context) => createSseEventSource(streamTranslator(context), chatStreamDone),
};

function streamTranslator(context: BridgeContext): ResponsesToOpenAIStreamTranslator {
  const request = context.clientBody as OpenAIChatRequest;
  return createResponsesToOpenAIStreamTranslator({ model: context.upstreamModel, created: context.created, includeUsage: request.stream_options?.include_usage === true });
}
