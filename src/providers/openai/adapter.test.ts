import { describe, expect, it } from 'vitest';
import { providerErrorFixtures } from '../../../test/helpers/provider-testing.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { ApiKeyCredential, BuildRequestInput, OAuthCredential } from '../types.js';
import { openaiAdapter } from './adapter.js';
import { mapOpenAIError } from './errors.js';

const { loadFixture, mapFixture } = providerErrorFixtures(new URL('./__fixtures__/', import.meta.url), mapOpenAIError, 'openai');

const apiKey: ApiKeyCredential = { id: 'openai-key-1', provider: 'openai', priority: 0, kind: 'api_key', apiKey: 'test-upstream-key-0001' };
const oauth: OAuthCredential = { id: 'codex-1', provider: 'openai', priority: 0, kind: 'oauth', accessToken: 'test-access-token-0001', expiresAt: undefined };

function input(overrides: Partial<BuildRequestInput> = {}): BuildRequestInput {
  return {
    operation: 'chat',
    credential: apiKey,
    baseUrl: new URL('https://api.openai.com/v1'),
    model: 'gpt-test',
    stream: false,
    clientHeaders: {},
    ...overrides,
  };
}

describe('openai adapter: request building', () => {
  it('joins /chat/completions whether or not the base ends with a slash', () => {
    expect(openaiAdapter.buildRequest(input()).url).toBe('https://api.openai.com/v1/chat/completions');
    expect(openaiAdapter.buildRequest(input({ baseUrl: new URL('https://api.openai.com/v1/') })).url).toBe('https://api.openai.com/v1/chat/completions');
    expect(openaiAdapter.buildRequest(input({ baseUrl: new URL('http://127.0.0.1:1234/v1') })).url).toBe('http://127.0.0.1:1234/v1/chat/completions');
  });

  it('keeps a query string on the base and drops a fragment', () => {
    const url = openaiAdapter.buildRequest(input({ baseUrl: new URL('https://example.test/openai/v1?api-version=2024-10-21#x') })).url;
    expect(url).toBe('https://example.test/openai/v1/chat/completions?api-version=2024-10-21');
  });

  it('sends an API key as a bearer token with JSON content negotiation', () => {
    expect(openaiAdapter.buildRequest(input()).headers).toEqual({
      authorization: 'Bearer test-upstream-key-0001',
      'content-type': 'application/json',
      accept: 'application/json',
    });
  });

  it('asks for an event stream when streaming', () => {
    expect(openaiAdapter.buildRequest(input({ stream: true })).headers.accept).toBe('text/event-stream');
  });

  it('sends an OAuth access token the same way', () => {
    expect(openaiAdapter.buildRequest(input({ credential: oauth })).headers.authorization).toBe('Bearer test-access-token-0001');
  });

  it('forwards no client header, not even the client key or organization', () => {
    const headers = openaiAdapter.buildRequest(
      input({ clientHeaders: { authorization: 'Bearer client-key-0001', 'openai-organization': 'org-client', 'x-custom': 'yes', cookie: 'a=b' } }),
    ).headers;
    expect(Object.keys(headers).sort()).toEqual(['accept', 'authorization', 'content-type']);
    expect(headers.authorization).toBe('Bearer test-upstream-key-0001');
  });

  it('merges extra headers but never lets them replace the credential', () => {
    const headers = openaiAdapter.buildRequest(
      input({ extraHeaders: { 'X-Device-Fingerprint': 'fp-0001', Authorization: 'Bearer attacker' } }),
    ).headers;
    expect(headers['x-device-fingerprint']).toBe('fp-0001');
    expect(headers.authorization).toBe('Bearer test-upstream-key-0001');
  });

  it('refuses a credential carrying a newline (header injection) without echoing it', () => {
    const bad: ApiKeyCredential = { ...apiKey, apiKey: 'test-upstream-key-0001\r\nx-evil: 1' };
    expect(() => openaiAdapter.buildRequest(input({ credential: bad }))).toThrowError(/control characters/);
    try {
      openaiAdapter.buildRequest(input({ credential: bad }));
    } catch (error) {
      expect((error as Error).message).not.toContain('test-upstream-key-0001');
    }
  });

  it('does not support count_tokens', () => {
    expect(openaiAdapter.supportsCountTokens).toBe(false);
    expect(() => openaiAdapter.buildRequest(input({ operation: 'count_tokens' }))).toThrowError(GatewayError);
    try {
      openaiAdapter.buildRequest(input({ operation: 'count_tokens' }));
    } catch (error) {
      expect((error as GatewayError).code).toBe('GW_INTERNAL');
    }
  });

  it('declares its type and wire format', () => {
    expect(openaiAdapter.type).toBe('openai');
    expect(openaiAdapter.format).toBe('openai-chat');
  });
});

describe('openai adapter: error mapping against recorded bodies', () => {
  it.each([
    ['400-invalid-request', "openai returned 400: Invalid value for 'temperature': expected a number between 0 and 2, but got 3.5 instead."],
    ['404-model-not-found', 'openai returned 404: The model `gpt-nonexistent` does not exist or you do not have access to it.'],
    ['400-vllm-error', "openai returned 400: This model's maximum context length is 4096 tokens. However, you requested 5000 tokens. Please reduce the length of the messages or completion."],
    ['422-fastapi-detail', "openai returned 422: Unprocessable Entity: field 'messages' is required"],
  ])('%s → GW_UPSTREAM_BAD_REQUEST, status passed through, not retried', (name, message) => {
    const error = mapFixture(name);
    expect(error.code).toBe('GW_UPSTREAM_BAD_REQUEST');
    expect(error.status).toBe(loadFixture(name).status);
    expect(error.retryable).toBe(false);
    expect(error.provider).toBe('openai');
    expect(error.message).toBe(message);
  });

  it.each(['401-invalid-api-key', '403-unsupported-region'])('%s → GW_UPSTREAM_AUTH_FAILED, retryable (another key may work)', (name) => {
    const error = mapFixture(name);
    expect(error.code).toBe('GW_UPSTREAM_AUTH_FAILED');
    expect(error.status).toBe(502);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/^openai returned 40[13]: /);
  });

  it('429 → GW_UPSTREAM_RATE_LIMITED with Retry-After seconds', () => {
    const error = mapFixture('429-rate-limited');
    expect(error.code).toBe('GW_UPSTREAM_RATE_LIMITED');
    expect(error.status).toBe(429);
    expect(error.retryable).toBe(true);
    expect(error.retryAfterSeconds).toBe(20);
    expect(error.message).toMatch(/^openai returned 429: Rate limit reached for gpt-4o-mini/);
  });

  it('429 prefers retry-after-ms, rounded up to whole seconds', () => {
    expect(mapFixture('429-retry-after-ms').retryAfterSeconds).toBe(2);
    const error = mapOpenAIError({ provider: 'openai', status: 429, headers: { 'retry-after-ms': '2100' }, bodyText: '' });
    expect(error.retryAfterSeconds).toBe(3);
  });

  it('500 → GW_UPSTREAM_ERROR, retryable', () => {
    const error = mapFixture('500-server-error');
    expect(error.code).toBe('GW_UPSTREAM_ERROR');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('openai returned 500: The server had an error while processing your request. Sorry about that!');
  });

  it('502 HTML page → GW_UPSTREAM_ERROR with a 200-character single-line excerpt', () => {
    const error = mapFixture('502-html-gateway');
    expect(error.code).toBe('GW_UPSTREAM_ERROR');
    const excerpt = error.message.slice('openai returned 502: '.length);
    expect(excerpt.startsWith('<html> <head><title>502 Bad Gateway</title>')).toBe(true);
    expect(excerpt.length).toBeLessThanOrEqual(200);
    expect(error.message).not.toMatch(/[\r\n]/);
  });

  it('503 → GW_UPSTREAM_OVERLOADED with Retry-After from an HTTP date', () => {
    const error = mapOpenAIError({
      provider: 'openai',
      status: 503,
      headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() },
      bodyText: JSON.stringify(loadFixture('503-overloaded').body),
    });
    expect(error.code).toBe('GW_UPSTREAM_OVERLOADED');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(29);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(31);
    // The recorded date is in the past: wait nothing.
    expect(mapFixture('503-overloaded').retryAfterSeconds).toBe(0);
  });

  it('caps a huge upstream message at 500 characters', () => {
    const error = mapOpenAIError({ provider: 'openai', status: 400, headers: {}, bodyText: JSON.stringify({ error: { message: 'x'.repeat(5000) } }) });
    expect(error.message.length).toBeLessThanOrEqual('openai returned 400: '.length + 500);
  });

  it('accepts a string error and an empty body', () => {
    expect(mapOpenAIError({ provider: 'lmstudio', status: 400, headers: {}, bodyText: '{"error":"Model is not loaded"}' }).message).toBe(
      'lmstudio returned 400: Model is not loaded',
    );
    expect(mapOpenAIError({ provider: 'openai', status: 500, headers: {}, bodyText: '' }).message).toBe('openai returned 500: (empty body)');
  });

  it('529 is just another 5xx for an OpenAI-compatible upstream', () => {
    expect(mapOpenAIError({ provider: 'openai', status: 529, headers: {}, bodyText: '' }).code).toBe('GW_UPSTREAM_ERROR');
  });
});
