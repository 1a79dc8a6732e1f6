import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatPipelineDependencies } from '../chat-pipeline.js';
import { installErrorHandler } from '../error-handler.js';
import type { Runtime } from '../runtime.js';
import { defineClientRoute, registerClientRoutes, type ClientRequestInput, type ClientRouteRow } from './client-route.js';
import { clientRouteTable } from './route-table.js';

/**
 * The route table drives every body-carrying client route through one handler (validate → cap →
 * run). The rows are registered here with their runner replaced by a recorder, so what is under
 * test is the table and the shared handler, not the pipeline behind it.
 */
const globalCap = 100;
const maxMessages = 3;
const runtime = {
  router: { resolve: () => undefined },
  loaded: { config: { server: { validation: { max_tokens: globalCap, max_messages: maxMessages, strict: false } } } },
} as unknown as Runtime;
const dependencies = { runtime: () => runtime } as unknown as ChatPipelineDependencies;

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** An app serving `table` with every row's runner replaced by one that records its input. */
async function recordingApp(table: readonly ClientRouteRow[]): Promise<{ app: FastifyInstance; seen: ClientRequestInput<unknown>[] }> {
  const seen: ClientRequestInput<unknown>[] = [];
  const app = Fastify();
  apps.push(app);
  installErrorHandler(app);
  const recorded = table.map(
    (row): ClientRouteRow => ({
      ...row,
      run: async (_dependencies, _request, reply, input) => {
        seen.push(input);
        return reply.send({ ok: true });
      },
    }),
  );
  registerClientRoutes(app, dependencies, recorded);
  await app.ready();
  return { app, seen };
}

const row = (url: string): ClientRouteRow => {
  const found = clientRouteTable.find((candidate) => candidate.url === url);
  if (found === undefined) throw new Error(`no row for ${url}`);
  return found;
};

describe('clientRouteTable', () => {
  it('declares each surface, its schema and its token-cap fields once', () => {
    expect(clientRouteTable.map((route) => [route.url, route.surface, route.tokenCaps.map((field) => field.name)])).toEqual([
      ['/v1/chat/completions', 'openai-chat', ['max_tokens', 'max_completion_tokens']],
      ['/v1/messages', 'anthropic-messages', ['max_tokens']],
      ['/v1/responses', 'openai-responses', ['max_output_tokens']],
      ['/v1/messages/count_tokens', 'anthropic-messages', []],
      ['/v1beta/models/:model(^[^:/]+)::generateContent', 'gemini', ['generationConfig.maxOutputTokens']],
      ['/v1beta/models/:model(^[^:/]+)::streamGenerateContent', 'gemini', ['generationConfig.maxOutputTokens']],
      ['/v1beta/models/:model(^[^:/]+)::countTokens', 'gemini', []],
    ]);
    expect(new Set(clientRouteTable.map((route) => route.url)).size).toBe(clientRouteTable.length);
  });

  it.each([
    ['/v1/chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }, 'openai-chat'],
    ['/v1/messages', { model: 'm', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }, 'anthropic-messages'],
    ['/v1beta/models/m:streamGenerateContent', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }, 'gemini'],
    ['/v1/responses', { model: 'm', stream: true, input: [{ role: 'user', content: 'hi' }] }, 'openai-responses'],
  ])('serves %s through the shared handler: surface, model and stream from the row', async (url, body, surface) => {
    const { app, seen } = await recordingApp(clientRouteTable);
    const response = await app.inject({ method: 'POST', url, payload: body });
    expect(response.statusCode, response.body).toBe(200);
    expect(seen).toEqual([{ clientFormat: surface, body, model: 'm', stream: true }]);
  });

  it.each([
    ['/v1/chat/completions', 'max_tokens', { model: 'm', max_tokens: globalCap + 1, messages: [{ role: 'user', content: 'hi' }] }],
    ['/v1/chat/completions', 'max_completion_tokens', { model: 'm', max_completion_tokens: globalCap + 1, messages: [{ role: 'user', content: 'hi' }] }],
    ['/v1/messages', 'max_tokens', { model: 'm', max_tokens: globalCap + 1, messages: [{ role: 'user', content: 'hi' }] }],
    ['/v1/responses', 'max_output_tokens', { model: 'm', max_output_tokens: globalCap + 1, input: 'hi' }],
    ['/v1beta/models/m:generateContent', 'generationConfig.maxOutputTokens', { contents: [], generationConfig: { maxOutputTokens: globalCap + 1 } }],
    ['/v1beta/models/m:streamGenerateContent', 'generationConfig.maxOutputTokens', { contents: [], generationConfig: { maxOutputTokens: globalCap + 1 } }],
  ])('%s refuses %s over the cap with 400 naming the field, before the runner', async (url, field, body) => {
    const { app, seen } = await recordingApp(clientRouteTable);
    const response = await app.inject({ method: 'POST', url, payload: body });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain(`${field} ${globalCap + 1} is above`);
    expect(seen).toEqual([]);
  });

  /** A concrete path for a row: Gemini's rows carry the model as a URL parameter before the colon. */
  const concretePath = (url: string): string => url.replace(':model(^[^:/]+)::', 'gem-test:');

  it.each(clientRouteTable.map((route) => concretePath(route.url)))('%s refuses a body its schema refuses, before the runner', async (url) => {
    const { app, seen } = await recordingApp(clientRouteTable);
    const response = await app.inject({ method: 'POST', url, payload: { model: 42 } });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Invalid request: ');
    expect(seen).toEqual([]);
  });

  it('count_tokens has its own runner and no cap', () => {
    expect(Object.hasOwn(row('/v1/messages/count_tokens'), 'run')).toBe(true);
    expect(Object.hasOwn(row('/v1/chat/completions'), 'run')).toBe(false);
    expect(Object.hasOwn(row('/v1/messages'), 'run')).toBe(false);
  });
});

describe('a row of a later surface fits the table', () => {
  // Gemini's shape: the model in the URL, streaming decided by the path, the cap in a nested field.
  const geminiLike = defineClientRoute({
    url: '/v1beta/models/:model',
    surface: 'openai-chat',
    schema: Type.Object({
      contents: Type.Optional(Type.Array(Type.Object({ role: Type.String() }))),
      generationConfig: Type.Optional(Type.Object({ maxOutputTokens: Type.Optional(Type.Integer()) })),
    }),
    messages: 'contents',
    model: (_body, params) => params['model'] ?? '',
    stream: () => true,
    tokenCaps: [{ name: 'generationConfig.maxOutputTokens', read: (body) => body.generationConfig?.maxOutputTokens }],
  });

  it('takes the model from the URL and caps a nested field', async () => {
    const { app, seen } = await recordingApp([geminiLike]);
    expect((await app.inject({ method: 'POST', url: '/v1beta/models/gem-test', payload: { generationConfig: { maxOutputTokens: 5 } } })).statusCode).toBe(200);
    expect(seen).toMatchObject([{ model: 'gem-test', stream: true }]);
    const over = await app.inject({ method: 'POST', url: '/v1beta/models/gem-test', payload: { generationConfig: { maxOutputTokens: globalCap + 1 } } });
    expect(over.statusCode).toBe(400);
    expect(over.body).toContain(`generationConfig.maxOutputTokens ${globalCap + 1}`);
  });

  it('bounds its own message list (contents) by server.validation.max_messages, before the schema', async () => {
    const { app, seen } = await recordingApp([geminiLike]);
    // Entries the schema would refuse: the count refuses first, so the schema never walks them.
    const over = await app.inject({ method: 'POST', url: '/v1beta/models/gem-test', payload: { contents: Array.from({ length: maxMessages + 1 }, () => 1) } });
    expect(over.statusCode).toBe(400);
    expect(over.body).toContain(`contents: ${maxMessages + 1} entries is more than this gateway's limit of ${maxMessages}`);
    expect(seen).toEqual([]);
  });
});
