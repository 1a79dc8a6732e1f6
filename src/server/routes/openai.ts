import type { FastifyInstance } from 'fastify';
import type { OpenAIChatRequest } from '../../formats/openai/chat-request.js';
import type { AnthropicModelList } from '../../formats/anthropic/messages-response.js';
import type { OpenAIModelList } from '../../formats/openai/chat-response.js';
import { runChat, type ChatPipelineDependencies } from '../chat-pipeline.js';
import { enforceMaxTokens, maxTokensCapFor, validateOpenAIChat } from '../validate-body.js';

/** OpenAI routes: chat completions and the model list (Anthropic-shaped when `anthropic-version` is sent). */
export function registerOpenAIRoutes(app: FastifyInstance, dependencies: ChatPipelineDependencies): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    validateOpenAIChat(request.body);
    const body = request.body as OpenAIChatRequest;
    const cap = maxTokensCapFor(dependencies.runtime(), body.model);
    enforceMaxTokens(body.max_tokens, 'max_tokens', cap);
    enforceMaxTokens(body.max_completion_tokens, 'max_completion_tokens', cap);
    await runChat(dependencies, request, reply, {
      clientFormat: 'openai-chat',
      body,
      model: body.model,
      stream: body.stream === true,
    });
    return reply;
  });

  app.get('/v1/models', async (request, reply) => {
    const models = dependencies.runtime().router.list();
    const created = Math.floor(dependencies.now() / 1000);
    if (request.headers['anthropic-version'] !== undefined) {
      const createdAt = new Date(created * 1000).toISOString();
      const list: AnthropicModelList = {
        data: models.map((model) => ({ type: 'model', id: model.id, display_name: model.id, created_at: createdAt })),
        has_more: false,
        first_id: models[0]?.id ?? null,
        last_id: models.at(-1)?.id ?? null,
      };
      return reply.send(list);
    }
    const list: OpenAIModelList = {
      object: 'list',
      data: models.map((model) => ({ id: model.id, object: 'model', created, owned_by: model.provider })),
    };
    return reply.send(list);
  });
}
