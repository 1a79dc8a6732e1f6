import type { AnthropicMessagesRequest } from '../../formats/anthropic/messages-request.js';
import { createGeminiStreamParser } from '../../formats/gemini/stream-parser.js';
import { translateAnthropicRequestToGemini } from '../../translate/anthropic-to-gemini/request.js';
import { translateGeminiResponseToAnthropic } from '../../translate/anthropic-to-gemini/response.js';
import { createGeminiToAnthropicStreamTranslator } from '../../translate/anthropic-to-gemini/stream.js';
import { createSseTransformer, encodeAnthropicEvent } from './sse-transformer.js';
import type { FormatBridge } from './types.js';

/** An Anthropic client (SDK, Claude Code) served by a Gemini upstream; its stream read in either Gemini framing. */
export const anthropicToGeminiBridge: FormatBridge = {
  name: 'anthropic-messages-to-gemini',
  clientFormat: 'anthropic-messages',
  upstreamFormat: 'gemini',
  upstreamBody(context) {
    return JSON.stringify(translateAnthropicRequestToGemini(context.clientBody as AnthropicMessagesRequest));
  },
  jsonResponse(_upstreamBody, answer, context) {
    return JSON.stringify(translateGeminiResponseToAnthropic(answer, { model: context.upstreamModel, requestId: context.requestId }));
  },
  streamTransformer(context) {
    const translator = createGeminiToAnthropicStreamTranslator({ model: context.upstreamModel, requestId: context.requestId });
    return createSseTransformer(translator, encodeAnthropicEvent, createGeminiStreamParser());
  },
};
