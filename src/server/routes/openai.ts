import type { FastifyInstance } from 'fastify';
import type { AnthropicModelList } from '../../formats/anthropic/messages-response.js';
import type { OpenAIModelList } from '../../formats/openai/chat-response.js';
import type { ChatPipelineDependencies } from '../chat-pipeline.js';
import { modelsFor } from './model-list.js';

/**
 * The model list (Anthropic-shaped when `anthropic-version` is sent). Chat completions is a row of
 * the route table (route-table.ts).
 */
export function registerModelListRoute(app: FastifyInstance, dependencies: ChatPipelineDependencies): void {
  app.get('/v1/models', async (request, reply) => {
    const models = modelsFor(dependencies.runtime(), request.principal);
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
