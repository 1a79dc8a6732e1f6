import { createHash } from 'node:crypto';
import type { AnthropicMessagesRequest } from '../../formats/anthropic/messages-request.js';
import { estimateAnthropicInputTokens } from '../../translate/anthropic-to-openai/estimate-tokens.js';
import { translateAnthropicRequestToOpenAI } from '../../translate/anthropic-to-openai/request.js';
import { translateOpenAIResponseToAnthropic } from '../../translate/anthropic-to-openai/response.js';
import { createOpenAIToAnthropicStreamTranslator } from '../../translate/anthropic-to-openai/stream.js';
import { createSseTransformer, encodeAnthropicEvent } from './sse-transformer.js';
import type { FormatBridge } from './types.js';

/** SHA-256 hex of an over-long `metadata.user_id`, for OpenAI's 64-character `user` (openAIUserFor). */
const digestUserId = (userId: string): string => createHash('sha256').update(userId, 'utf8').digest('hex');

/** An Anthropic client (SDK, Claude Code) served by an OpenAI-compatible upstream. */
export const anthropicToOpenAIBridge: FormatBridge = {
  name: 'anthropic-messages-to-openai-chat',
  clientFormat: 'anthropic-messages',
  upstreamFormat: 'openai-chat',
  upstreamBody(context) {
    const request = context.clientBody as AnthropicMessagesRequest;
    return JSON.stringify(translateAnthropicRequestToOpenAI(request, { upstreamModel: context.upstreamModel, digestUserId }));
  },
  jsonResponse(_upstreamBody, answer, context) {
    return JSON.stringify(translateOpenAIResponseToAnthropic(answer, { model: context.upstreamModel }));
  },
  streamTransformer(context) {
    const request = context.clientBody as AnthropicMessagesRequest;
    return createSseTransformer(
      createOpenAIToAnthropicStreamTranslator({
        model: context.upstreamModel,
        // Anthropic message ids are `msg_` + opaque; the request id keeps logs and clients correlated.
        messageId: `msg_${context.requestId.replace(/[^A-Za-z0-9]/g, '')}`,
        estimatedInputTokens: estimateAnthropicInputTokens(request),
      }),
      encodeAnthropicEvent,
    );
  },
};
