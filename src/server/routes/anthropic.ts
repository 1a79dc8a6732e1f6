import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AnthropicCountTokensRequest } from '../../formats/anthropic/messages-request.js';
import type { AnthropicCountTokensResponse } from '../../formats/anthropic/messages-response.js';
import { estimateAnthropicInputTokens } from '../../translate/anthropic-to-openai/estimate-tokens.js';
import { sameFormatBody } from '../bridges/pass-through.js';
import { abortOnClientClose, rawBodyOf, resolveProvider, sendUpstreamBuffered, type ChatPipelineDependencies } from '../chat-pipeline.js';
import { admitRequest } from '../request-limits.js';
import type { ClientRequestInput } from './client-route.js';

/**
 * `POST /v1/messages/count_tokens` once its row (route-table.ts) validated the body. Anthropic
 * upstreams count exactly; for an OpenAI-compatible upstream there is no counting endpoint, so the
 * gateway answers with its documented estimate (see estimate-tokens.ts). Either way the request
 * counts against the client key's `requests_per_minute` and `max_concurrency` (docs/keys.md).
 */
export async function countAnthropicTokens(
  dependencies: ChatPipelineDependencies,
  request: FastifyRequest,
  reply: FastifyReply,
  input: ClientRequestInput<AnthropicCountTokensRequest>,
): Promise<FastifyReply> {
  const { body, model } = input;
  const { provider, upstreamModel, eligible } = resolveProvider(dependencies.runtime(), model, request.principal);
  request.routedProvider = provider.name;
  // One request of the key's requests_per_minute and a concurrency slot; no tokens (request-limits.ts).
  const admitting = admitRequest(dependencies, request, reply, provider, undefined, 0);
  if (admitting !== undefined) await admitting;
  if (!provider.adapter.supportsCountTokens) {
    const estimate: AnthropicCountTokensResponse = { input_tokens: estimateAnthropicInputTokens(body) };
    return reply.header('x-token-count-estimated', 'true').send(estimate);
  }
  const upstreamBody = sameFormatBody(rawBodyOf(request), body, model, upstreamModel);
  const call = { request, provider, operation: 'count_tokens' as const, upstreamModel, eligible, body: upstreamBody, signal: abortOnClientClose(reply) };
  const answer = await sendUpstreamBuffered(dependencies, call, 1024 * 1024);
  return reply.header('content-type', 'application/json').send(answer);
}
