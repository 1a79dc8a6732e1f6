import type { OpenAIChatRequest } from '../../formats/openai/chat-request.js';
import { translateOpenAIRequestToAnthropic } from '../../translate/openai-to-anthropic/request.js';
import { translateAnthropicResponseToOpenAI } from '../../translate/openai-to-anthropic/response.js';
import { createAnthropicToOpenAIStreamTranslator } from '../../translate/openai-to-anthropic/stream.js';
import { createSseTransformer, encodeOpenAIChunk } from './sse-transformer.js';
import type { FormatBridge } from './types.js';

const done = 'data: [DONE]\n\n';

/** An OpenAI client (SDK, Codex, Cursor) served by an Anthropic upstream. */
export const openaiToAnthropicBridge: FormatBridge = {
  name: 'openai-chat-to-anthropic-messages',
  clientFormat: 'openai-chat',
  upstreamFormat: 'anthropic-messages',
  upstreamBody(context, _raw, options) {
    const request = context.clientBody as OpenAIChatRequest;
    return JSON.stringify(
      translateOpenAIRequestToAnthropic(request, { upstreamModel: context.upstreamModel, defaultMaxTokens: options.defaultMaxTokens }),
    );
  },
  jsonResponse(_upstreamBody, answer, context) {
    return JSON.stringify(translateAnthropicResponseToOpenAI(answer, { model: context.upstreamModel, created: context.created }));
  },
  streamTransformer(context) {
    const request = context.clientBody as OpenAIChatRequest;
    const inner = createSseTransformer(
      createAnthropicToOpenAIStreamTranslator({
        model: context.upstreamModel,
        created: context.created,
        includeUsage: request.stream_options?.include_usage === true,
      }),
      encodeOpenAIChunk,
    );
    return { push: (piece) => inner.push(piece), flush: () => `${inner.flush() as string}${done}`, abort: () => inner.abort() };
  },
};
