import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GeminiCountTokensRequest, GeminiGenerateContentRequest } from '../../formats/gemini/generate-content-request.js';
import type { GeminiCountTokensResponse, GeminiModelList } from '../../formats/gemini/generate-content-response.js';
import { estimateAnthropicInputTokens } from '../../translate/anthropic-to-openai/estimate-tokens.js';
import { translateGeminiRequestToAnthropic } from '../../translate/gemini-to-anthropic/request.js';
import { resolveProvider, runChat, type ChatPipelineDependencies } from '../chat-pipeline.js';
import { admitRequest, refuseUnsentRequest } from '../request-limits.js';
import type { ClientRequestInput } from './client-route.js';
import { modelsFor } from './model-list.js';

/**
 * Gemini's surface besides the generateContent rows of route-table.ts: the stream runner (which
 * reads `?alt=sse`), `:countTokens` and `GET /v1beta/models`. Paths put the model before a colon
 * (`/v1beta/models/gpt-4o:generateContent`); the router's regex parameter stops at the colon, so a
 * model name cannot hold one (nor a `/`: the `provider/model` form is not reachable from this URL).
 */
export const geminiModelParameter = ':model(^[^:/]+)';

/** `:streamGenerateContent`: SSE with `?alt=sse` (the SDK and the Gemini CLI), else one JSON array. */
export function runGeminiStream(
  dependencies: ChatPipelineDependencies,
  request: FastifyRequest,
  reply: FastifyReply,
  input: ClientRequestInput<GeminiGenerateContentRequest>,
): Promise<void> {
  const alt = (request.query as Record<string, unknown> | undefined)?.['alt'];
  return runChat(dependencies, request, reply, { ...input, streamFraming: alt === 'sse' ? 'sse' : 'json-array' });
}

/**
 * `:countTokens`, estimated: the request is measured as its Anthropic translation with the same
 * estimate as `/v1/messages/count_tokens` gives for an upstream that cannot count (estimate-tokens.ts),
 * whatever the upstream, and says so in `x-token-count-estimated`. The model must still be served.
 * generationConfig is dropped before translating: it does not change the prompt, and the Anthropic
 * translation's checks on it (temperature over 1, candidateCount) would refuse a count for nothing,
 * even for a model on an OpenAI upstream. Parts the translation cannot carry are still a 400.
 * Like every count it is one request of the client key's `requests_per_minute` and holds a
 * concurrency slot while it is answered (docs/keys.md).
 */
export async function countGeminiTokens(
  dependencies: ChatPipelineDependencies,
  request: FastifyRequest,
  reply: FastifyReply,
  input: ClientRequestInput<GeminiCountTokensRequest>,
): Promise<FastifyReply> {
  const { provider, upstreamModel } = resolveProvider(dependencies.runtime(), input.model, request.principal);
  request.routedProvider = provider.name;
  // One request of the key's requests_per_minute and a concurrency slot; no tokens (request-limits.ts).
  const admitting = admitRequest(dependencies, request, reply, provider, undefined, 0);
  if (admitting !== undefined) await admitting;
  const { generationConfig: _generationConfig, ...generateRequest }: GeminiGenerateContentRequest = input.body.generateContentRequest ?? { contents: input.body.contents ?? [] };
  const hasContent = generateRequest.contents.some((content) => content.parts.length > 0);
  let totalTokens = 0;
  try {
    if (hasContent) totalTokens = estimateAnthropicInputTokens(translateGeminiRequestToAnthropic(generateRequest, { upstreamModel, defaultMaxTokens: 1, stream: false }));
  } catch (error) {
    // A part the translation cannot carry (400), found after the key's limits admitted the count:
    // its slot and request go back before the 400 leaves (request-limits.ts).
    return refuseUnsentRequest(reply, error);
  }
  const answer: GeminiCountTokensResponse = { totalTokens };
  return reply.header('x-token-count-estimated', 'true').send(answer);
}

/** `GET /v1beta/models`: the same models as `GET /v1/models` (those the key may use), in Gemini's list shape. */
export function registerGeminiModelListRoute(app: FastifyInstance, dependencies: ChatPipelineDependencies): void {
  app.get('/v1beta/models', async (request, reply) => {
    const list: GeminiModelList = {
      models: modelsFor(dependencies.runtime(), request.principal).map((model) => ({ name: `models/${model.id}`, displayName: model.id, supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'] })),
    };
    return reply.send(list);
  });
}
