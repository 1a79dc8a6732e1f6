import type { ResponsesRequest } from '../../formats/responses/request.js';
import { translateResponsesRequestToAnthropic } from '../../translate/responses-to-anthropic/request.js';
import { translateAnthropicResponseToResponses } from '../../translate/responses-to-anthropic/response.js';
import { createAnthropicToResponsesStreamTranslator } from '../../translate/responses-to-anthropic/stream.js';
import { createResponsesStreamTransformer, responsesAnswerContext } from './responses-framing.js';
import type { FormatBridge } from './types.js';

/** A Responses client (the `openai` SDK's `responses.create`, Codex CLI) served by an Anthropic upstream. */
export const responsesToAnthropicBridge: FormatBridge = {
  name: 'openai-responses-to-anthropic-messages',
  clientFormat: 'openai-responses',
  upstreamFormat: 'anthropic-messages',
  answerReadsRequest: true, // responsesAnswerContext echoes the request
  upstreamBody(context, _raw, options) {
    return JSON.stringify(
      translateResponsesRequestToAnthropic(context.clientBody as ResponsesRequest, { upstreamModel: context.upstreamModel, defaultMaxTokens: options.defaultMaxTokens }),
    );
  },
  jsonResponse(_upstreamBody, answer, context) {
    return JSON.stringify(translateAnthropicResponseToResponses(answer, responsesAnswerContext(context)));
  },
  streamTransformer(context) {
    return createResponsesStreamTransformer(createAnthropicToResponsesStreamTranslator(responsesAnswerContext(context)));
  },
};
