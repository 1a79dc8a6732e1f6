import type { GeminiGenerateContentRequest } from '../../formats/gemini/generate-content-request.js';
import { translateGeminiRequestToAnthropic } from '../../translate/gemini-to-anthropic/request.js';
import { translateAnthropicResponseToGemini } from '../../translate/gemini-to-anthropic/response.js';
import { createAnthropicToGeminiStreamTranslator } from '../../translate/gemini-to-anthropic/stream.js';
import { createGeminiStreamTransformer } from './gemini-framing.js';
import type { FormatBridge } from './types.js';

/** A Gemini client (`@google/genai`, Gemini CLI) served by an Anthropic upstream. */
export const geminiToAnthropicBridge: FormatBridge = {
  name: 'gemini-to-anthropic-messages',
  clientFormat: 'gemini',
  upstreamFormat: 'anthropic-messages',
  upstreamBody(context, _raw, options) {
    const request = context.clientBody as GeminiGenerateContentRequest;
    return JSON.stringify(
      translateGeminiRequestToAnthropic(request, { upstreamModel: context.upstreamModel, defaultMaxTokens: options.defaultMaxTokens, stream: context.stream }),
    );
  },
  jsonResponse(_upstreamBody, answer, context) {
    return JSON.stringify(translateAnthropicResponseToGemini(answer, { model: context.upstreamModel }));
  },
  streamTransformer(context) {
    return createGeminiStreamTransformer(createAnthropicToGeminiStreamTranslator({ model: context.upstreamModel }), context);
  },
};
