import type { FastifyInstance } from 'fastify';
import type { AnthropicCountTokensRequest, AnthropicMessagesRequest } from '../../formats/anthropic/messages-request.js';
import type { AnthropicCountTokensResponse } from '../../formats/anthropic/messages-response.js';
import { estimateAnthropicInputTokens } from '../../translate/anthropic-to-openai/estimate-tokens.js';
import { sameFormatBody } from '../bridges/pass-through.js';
import { abortOnClientClose, rawBodyOf, resolveProvider, runChat, sendUpstreamBuffered, type ChatPipelineDependencies } from '../chat-pipeline.js';
import { enforceMaxTokens, maxTokensCapFor, validateAnthropicCountTokens, validateAnthropicMessages } from '../validate-body.js';

/** Anthropic routes: messages and count_tokens. */
export function registerAnthropicRoutes(app: FastifyInstance, dependencies: ChatPipelineDependencies): void {
  app.post('/v1/messages', async (request, reply) => {
    validateAnthropicMessages(request.body);
    const body = request.body as AnthropicMessagesRequest;
    enforceMaxTokens(body.max_tokens, 'max_tokens', maxTokensCapFor(dependencies.runtime(), body.model));
    await runChat(dependencies, request, reply, {
      clientFormat: 'anthropic-messages',
      body,
      model: body.model,
      stream: body.stream === true,
    });
    return reply;
  });

  /**
   * Anthropic upstreams count exactly; for an OpenAI-compatible upstream there is no counting
   * endpoint, so the gateway answers with its documented estimate (see estimate-tokens.ts).
   */
  app.post('/v1/messages/count_tokens', async (request, reply) => {
    validateAnthropicCountTokens(request.body);
    const body = request.body as AnthropicCountTokensRequest;
    const { provider, upstreamModel } = resolveProvider(dependencies.runtime(), body.model);
    request.routedProvider = provider.name;
    if (!provider.adapter.supportsCountTokens) {
      const estimate: AnthropicCountTokensResponse = { input_tokens: estimateAnthropicInputTokens(body) };
      return reply.header('x-token-count-estimated', 'true').send(estimate);
    }
    const upstreamBody = sameFormatBody(rawBodyOf(request), body, body.model, upstreamModel);
    const call = { request, provider, operation: 'count_tokens' as const, body: upstreamBody, signal: abortOnClientClose(reply) };
    const answer = await sendUpstreamBuffered(dependencies, call, 1024 * 1024);
    return reply.header('content-type', 'application/json').send(answer);
  });
}
