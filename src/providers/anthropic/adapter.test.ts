import { describe, expect, it } from 'vitest';
import { providerErrorFixtures } from '../../../test/helpers/provider-testing.js';
import type { ApiKeyCredential, BuildRequestInput, OAuthCredential } from '../types.js';
import { anthropicAdapter } from './adapter.js';
import { mapAnthropicError } from './errors.js';

const { loadFixture, mapFixture } = providerErrorFixtures(new URL('./__fixtures__/', import.meta.url), mapAnthropicError, 'claude');

const apiKey: ApiKeyCredential = { id: 'claude-key-1', provider: 'claude', priority: 0, kind: 'api_key', apiKey: 'test-upstream-key-0001' };
const oauth: OAuthCredential = { id: 'claude-oauth-1', provider: 'claude', priority: 0, kind: 'oauth', accessToken: 'test-access-token-0001', expiresAt: 1_900_000_000_000 };

function input(overrides: Partial<BuildRequestInput> = {}): BuildRequestInput {
  return {
    operation: 'chat',
    credential: apiKey,
    baseUrl: new URL('https://api.anthropic.com'),
    model: 'claude-test',
    stream: false,
    clientHeaders: {},
    ...overrides,
  };
}

describe('anthropic adapter: request building', () => {
  it('targets /v1/messages and /v1/messages/count_tokens, with or without a trailing slash', () => {
    expect(anthropicAdapter.buildRequest(input()).url).toBe('https://api.anthropic.com/v1/messages');
    expect(anthropicAdapter.buildRequest(input({ baseUrl: new URL('https://api.anthropic.com/') })).url).toBe('https://api.anthropic.com/v1/messages');
    expect(anthropicAdapter.buildRequest(input({ operation: 'count_tokens' })).url).toBe('https://api.anthropic.com/v1/messages/count_tokens');
    expect(anthropicAdapter.buildRequest(input({ baseUrl: new URL('http://127.0.0.1:9000/anthropic/') })).url).toBe('http://127.0.0.1:9000/anthropic/v1/messages');
    expect(anthropicAdapter.supportsCountTokens).toBe(true);
  });

  it('sends an API key as x-api-key with the default version and no beta header', () => {
    expect(anthropicAdapter.buildRequest(input()).headers).toEqual({
      'x-api-key': 'test-upstream-key-0001',
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
      accept: 'application/json',
    });
  });

  it('sends an OAuth token as a bearer token with the oauth beta flag and no x-api-key', () => {
    const headers = anthropicAdapter.buildRequest(input({ credential: oauth, stream: true })).headers;
    expect(headers.authorization).toBe('Bearer test-access-token-0001');
    expect(headers['anthropic-beta']).toBe('oauth-2025-04-20');
    expect(headers['x-api-key']).toBeUndefined();
    expect(headers.accept).toBe('text/event-stream');
  });

  it('merges client beta flags with the oauth flag, deduplicated, dropping malformed tokens', () => {
    const headers = anthropicAdapter.buildRequest(
      input({
        credential: oauth,
        clientHeaders: {
          'anthropic-beta': ['prompt-caching-2024-07-31, oauth-2025-04-20', 'Bad_Token,x\r\ninjected: 1,,fine-grained-tool-streaming-2025-05-14'],
        },
      }),
    ).headers;
    expect(headers['anthropic-beta']).toBe('oauth-2025-04-20,prompt-caching-2024-07-31,fine-grained-tool-streaming-2025-05-14');
  });

  it('forwards client beta flags with an API key too, bounded in number', () => {
    const many = Array.from({ length: 100 }, (_, index) => `flag-${index}`).join(',');
    const headers = anthropicAdapter.buildRequest(input({ clientHeaders: { 'anthropic-beta': many } })).headers;
    expect(headers['anthropic-beta']?.split(',')).toHaveLength(32);
  });

  it("uses the client's anthropic-version when it is a date, else the default", () => {
    expect(anthropicAdapter.buildRequest(input({ clientHeaders: { 'anthropic-version': '2024-01-01' } })).headers['anthropic-version']).toBe('2024-01-01');
    expect(anthropicAdapter.buildRequest(input({ clientHeaders: { 'Anthropic-Version': '2024-02-02' } })).headers['anthropic-version']).toBe('2024-02-02');
    for (const bad of ['latest', '2023-06-01\r\nx-evil: 1', '2023-6-1', '']) {
      expect(anthropicAdapter.buildRequest(input({ clientHeaders: { 'anthropic-version': bad } })).headers['anthropic-version']).toBe('2023-06-01');
    }
  });

  it('forwards no other client header', () => {
    const headers = anthropicAdapter.buildRequest(
      input({ clientHeaders: { 'x-api-key': 'client-key-0001', authorization: 'Bearer client-key-0001', 'x-stainless-os': 'Linux' } }),
    ).headers;
    expect(headers['x-api-key']).toBe('test-upstream-key-0001');
    expect(headers.authorization).toBeUndefined();
    expect(headers['x-stainless-os']).toBeUndefined();
  });

  it('merges extra headers without letting them replace what the adapter set', () => {
    const headers = anthropicAdapter.buildRequest(input({ extraHeaders: { 'x-device-fingerprint': 'fp-0001', 'x-api-key': 'other' } })).headers;
    expect(headers['x-device-fingerprint']).toBe('fp-0001');
    expect(headers['x-api-key']).toBe('test-upstream-key-0001');
  });

  it('refuses an OAuth token with a newline', () => {
    expect(() => anthropicAdapter.buildRequest(input({ credential: { ...oauth, accessToken: 'a\nb' } }))).toThrowError(/control characters/);
  });
});

describe('anthropic adapter: error mapping against recorded bodies', () => {
  it.each([
    ['400-invalid-request', 'claude returned 400: max_tokens: Field required'],
    ['404-not-found', 'claude returned 404: model: claude-nonexistent-model'],
    ['413-request-too-large', 'claude returned 413: Request exceeds the maximum allowed number of bytes.'],
  ])('%s → GW_UPSTREAM_BAD_REQUEST, status passed through', (name, message) => {
    const error = mapFixture(name);
    expect(error.code).toBe('GW_UPSTREAM_BAD_REQUEST');
    expect(error.status).toBe(loadFixture(name).status);
    expect(error.retryable).toBe(false);
    expect(error.provider).toBe('claude');
    expect(error.message).toBe(message);
  });

  it.each([
    ['401-authentication', 'claude returned 401: invalid x-api-key'],
    ['403-permission', 'claude returned 403: Your API key does not have permission to use the specified resource.'],
  ])('%s → GW_UPSTREAM_AUTH_FAILED, retryable', (name, message) => {
    const error = mapFixture(name);
    expect(error.code).toBe('GW_UPSTREAM_AUTH_FAILED');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(message);
  });

  it('429 → GW_UPSTREAM_RATE_LIMITED with Retry-After', () => {
    const error = mapFixture('429-rate-limited');
    expect(error.code).toBe('GW_UPSTREAM_RATE_LIMITED');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterSeconds).toBe(17);
    expect(error.message.length).toBeLessThanOrEqual('claude returned 429: '.length + 500);
  });

  it('500 → GW_UPSTREAM_ERROR, retryable', () => {
    const error = mapFixture('500-api-error');
    expect(error.code).toBe('GW_UPSTREAM_ERROR');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('claude returned 500: Internal server error');
  });

  it('529 → GW_UPSTREAM_OVERLOADED, retryable', () => {
    const error = mapFixture('529-overloaded');
    expect(error.code).toBe('GW_UPSTREAM_OVERLOADED');
    expect(error.status).toBe(529);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('claude returned 529: Overloaded');
  });

  it('503 plain text → GW_UPSTREAM_OVERLOADED with the body excerpt and Retry-After', () => {
    const error = mapFixture('503-unavailable');
    expect(error.code).toBe('GW_UPSTREAM_OVERLOADED');
    expect(error.retryAfterSeconds).toBe(5);
    expect(error.message).toBe('claude returned 503: upstream connect error or disconnect/reset before headers. reset reason: overflow');
  });

  it('any other 5xx → GW_UPSTREAM_ERROR', () => {
    expect(mapAnthropicError({ provider: 'claude', status: 504, headers: {}, bodyText: '{"type":"error","error":{"type":"timeout_error","message":"Request timed out"}}' }).code).toBe(
      'GW_UPSTREAM_ERROR',
    );
  });
});
