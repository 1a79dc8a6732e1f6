import { AnthropicCountTokensRequest, AnthropicMessagesRequest } from '../../formats/anthropic/messages-request.js';
import { GeminiCountTokensRequest, GeminiGenerateContentRequest } from '../../formats/gemini/generate-content-request.js';
import { OpenAIChatRequest } from '../../formats/openai/chat-request.js';
import { ResponsesRequest } from '../../formats/responses/request.js';
import { countAnthropicTokens } from './anthropic.js';
import { defineClientRoute, type ClientRouteRow, type RouteParams } from './client-route.js';
import { countGeminiTokens, geminiModelParameter, runGeminiStream } from './gemini.js';

/**
 * The client API's body-carrying routes, one row each (client-route.ts registers them all the same
 * way: validate → cap → run). A new surface is a new row here plus its wire format and bridges;
 * the routes without a body (`GET /v1/models`) stay in their surface's file.
 */
const geminiMaxOutputTokens = {
  name: 'generationConfig.maxOutputTokens',
  read: (body: GeminiGenerateContentRequest) => body.generationConfig?.maxOutputTokens,
};

export const clientRouteTable: readonly ClientRouteRow[] = [
  defineClientRoute({
    url: '/v1/chat/completions',
    surface: 'openai-chat',
    schema: OpenAIChatRequest,
    messages: 'messages',
    model: (body) => body.model,
    stream: (body) => body.stream === true,
    // Both spellings ask for output tokens: `max_tokens` (deprecated by OpenAI) and `max_completion_tokens`.
    tokenCaps: [
      { name: 'max_tokens', read: (body) => body.max_tokens },
      { name: 'max_completion_tokens', read: (body) => body.max_completion_tokens },
    ],
  }),
  defineClientRoute({
    url: '/v1/messages',
    surface: 'anthropic-messages',
    schema: AnthropicMessagesRequest,
    messages: 'messages',
    model: (body) => body.model,
    stream: (body) => body.stream === true,
    tokenCaps: [{ name: 'max_tokens', read: (body) => body.max_tokens }],
  }),
  // OpenAI's Responses API (the SDK's responses.create, Codex CLI): `input` is the conversation.
  defineClientRoute({
    url: '/v1/responses',
    surface: 'openai-responses',
    schema: ResponsesRequest,
    messages: 'input',
    model: (body) => body.model,
    stream: (body) => body.stream === true,
    tokenCaps: [{ name: 'max_output_tokens', read: (body) => body.max_output_tokens }],
  }),
  defineClientRoute({
    url: '/v1/messages/count_tokens',
    surface: 'anthropic-messages',
    schema: AnthropicCountTokensRequest,
    messages: 'messages',
    model: (body) => body.model,
    stream: () => false,
    // Counting produces no output: nothing to cap.
    tokenCaps: [],
    run: countAnthropicTokens,
  }),
  // Gemini: the model is in the URL and the stream is chosen by the method's name.
  defineClientRoute({
    url: `/v1beta/models/${geminiModelParameter}::generateContent`,
    surface: 'gemini',
    schema: GeminiGenerateContentRequest,
    messages: 'contents',
    model: (_body, params) => modelOf(params),
    stream: () => false,
    tokenCaps: [geminiMaxOutputTokens],
  }),
  defineClientRoute({
    url: `/v1beta/models/${geminiModelParameter}::streamGenerateContent`,
    surface: 'gemini',
    schema: GeminiGenerateContentRequest,
    messages: 'contents',
    model: (_body, params) => modelOf(params),
    stream: () => true,
    tokenCaps: [geminiMaxOutputTokens],
    run: runGeminiStream,
  }),
  defineClientRoute({
    url: `/v1beta/models/${geminiModelParameter}::countTokens`,
    surface: 'gemini',
    schema: GeminiCountTokensRequest,
    messages: 'contents',
    model: (_body, params) => modelOf(params),
    stream: () => false,
    tokenCaps: [],
    run: countGeminiTokens,
  }),
];

/** The router only matches the row when the parameter is there; '' would fail as an unknown model. */
function modelOf(params: RouteParams): string {
  return params['model'] ?? '';
}
