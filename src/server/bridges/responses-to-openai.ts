import type { ResponsesRequest } from '../../formats/responses/request.js';
import { translateResponsesRequestToOpenAI } from '../../translate/responses-to-openai/request.js';
import { translateOpenAIResponseToResponses } from '../../translate/responses-to-openai/response.js';
import { createOpenAIToResponsesStreamTranslator } from '../../translate/responses-to-openai/stream.js';
import { createResponsesStreamTransformer, responsesAnswerContext } from './responses-framing.js';
import type { FormatBridge } from './types.js';

/** A Responses client (the `openai` SDK's `responses.create`, Codex CLI) served by an OpenAI-compatible chat upstream. */
export const responsesToOpenAIBridge: FormatBridge = {
  name: 'openai-responses-to-openai-chat',
  clientFormat: 'openai-responses',
  upstreamFormat: 'openai-chat',
  answerReadsRequest: true, // responsesAnswerContext echoes the request
  upstreamBody(context) {
    return JSON.stringify(translateResponsesRequestToOpenAI(context.clientBody as ResponsesRequest, { upstreamModel: context.upstreamModel }));
  },
  jsonResponse(_upstreamBody, answer, context) {
    return JSON.stringify(translateOpenAIResponseToResponses(answer, responsesAnswerContext(context)));
  },
  streamTransformer(context) {
    return createResponsesStreamTransformer(createOpenAIToResponsesStreamTranslator(responsesAnswerContext(context)));
  },
};
