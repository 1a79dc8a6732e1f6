import type { GeminiGenerateContentRequest } from '../../formats/gemini/generate-content-request.js';
import { translateGeminiRequestToOpenAI } from '../../translate/gemini-to-openai/request.js';
import { translateOpenAIResponseToGemini } from '../../translate/gemini-to-openai/response.js';
import { createOpenAIToGeminiStreamTranslator } from '../../translate/gemini-to-openai/stream.js';
import { createGeminiStreamTransformer } from './gemini-framing.js';
import type { FormatBridge } from './types.js';

/** A Gemini client (`@google/genai`, Gemini CLI) served by an OpenAI-compatible upstream. */
export const geminiToOpenAIBridge: FormatBridge = {
  name: 'gemini-to-openai-chat',
  clientFormat: 'gemini',
  upstreamFormat: 'openai-chat',
  upstreamBody(context) {
    const request = context.clientBody as GeminiGenerateContentRequest;
    return JSON.stringify(translateGeminiRequestToOpenAI(request, { upstreamModel: context.upstreamModel, stream: context.stream }));
  },
  jsonResponse(_upstreamBody, answer, context) {
    return JSON.stringify(translateOpenAIResponseToGemini(answer, { model: context.upstreamModel }));
  },
  streamTransformer(context) {
    return createGeminiStreamTransformer(createOpenAIToGeminiStreamTranslator({ model: context.upstreamModel }), context);
  },
};
