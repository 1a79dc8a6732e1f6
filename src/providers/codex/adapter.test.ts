import { describe, expect, it } from 'vitest';
import { providerErrorFixtures } from '../../../test/helpers/provider-testing.js';
import type { ApiKeyCredential, BuildRequestInput, OAuthCredential } from '../types.js';
import { chatgptAccountIdOf } from './account-id.js';
import { codexAdapter } from './adapter.js';
import { mapCodexError } from './errors.js';

const { mapFixture } = providerErrorFixtures(new URL('./__fixtures__/', import.meta.url), mapCodexError, 'codex');

/** A JWT-shaped test token (unsigned, obviously fake) carrying the claim the ChatGPT backend's tokens carry. */
function testAccessToken(accountId: unknown): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none' })}.${part({ sub: 'test-user', 'https://api.openai.com/auth': { chatgpt_account_id: accountId, chatgpt_plan_type: 'plus' } })}.test-signature`;
}

const apiKey: ApiKeyCredential = { id: 'codex-key-1', provider: 'codex', priority: 0, kind: 'api_key', apiKey: 'test-upstream-key-0201' };
const oauth = (accessToken: string): OAuthCredential => ({ id: 'codex-login-1', provider: 'codex', priority: 0, kind: 'oauth', accessToken, expiresAt: undefined });

function input(overrides: Partial<BuildRequestInput> = {}): BuildRequestInput {
  return { operation: 'chat', credential: apiKey, baseUrl: new URL('https://api.openai.com/v1'), model: 'gpt-codex-test', stream: false, clientHeaders: {}, ...overrides };
}

describe('codex adapter: request building', () => {
  it('sends an API key to ${base_url}/responses as a bearer token, always asking for a stream', () => {
    const target = codexAdapter.buildRequest(input());
    expect(target.url).toBe('https://api.openai.com/v1/responses');
    expect(target.headers).toEqual({ authorization: 'Bearer test-upstream-key-0201', 'content-type': 'application/json', accept: 'text/event-stream' });
  });

  it('sends a ChatGPT login the way Codex CLI does: account id from the token, OpenAI-Beta, originator', () => {
    const token = testAccessToken('0c8d7a2e-1111-4222-8333-944455556666');
    const target = codexAdapter.buildRequest(input({ credential: oauth(token), baseUrl: new URL('https://chatgpt.com/backend-api/codex') }));
    expect(target.url).toBe('https://chatgpt.com/backend-api/codex/responses');
    expect(target.headers).toEqual({
      authorization: `Bearer ${token}`,
      'chatgpt-account-id': '0c8d7a2e-1111-4222-8333-944455556666',
      'openai-beta': 'responses=experimental',
      originator: 'codex_cli_rs',
      'content-type': 'application/json',
      accept: 'text/event-stream',
    });
  });

  it('leaves the account id out for a token that is not a JWT or whose claim is not an id (no header injection)', () => {
    expect(codexAdapter.buildRequest(input({ credential: oauth('opaque-test-token') })).headers).not.toHaveProperty('chatgpt-account-id');
    expect(chatgptAccountIdOf(testAccessToken('evil\r\nx-injected: 1'))).toBeUndefined();
    expect(chatgptAccountIdOf(testAccessToken(42))).toBeUndefined();
    expect(chatgptAccountIdOf('a.!!!.b')).toBeUndefined();
  });

  it('forwards no client header', () => {
    const headers = codexAdapter.buildRequest(input({ clientHeaders: { authorization: 'Bearer client-key', 'chatgpt-account-id': 'client-account', session_id: 's' } })).headers;
    expect(headers.authorization).toBe('Bearer test-upstream-key-0201');
    expect(headers).not.toHaveProperty('chatgpt-account-id');
  });

  it('declares its type and wire format, and builds nothing but chat', () => {
    expect(codexAdapter.type).toBe('codex');
    expect(codexAdapter.format).toBe('openai-responses');
    expect(codexAdapter.supportsCountTokens).toBe(false);
    expect(() => codexAdapter.buildRequest(input({ operation: 'count_tokens' }))).toThrow(/cannot build a count_tokens request/);
  });
});

describe('codex adapter: error mapping', () => {
  it('401 → GW_UPSTREAM_AUTH_FAILED with the message found in the OpenAI shape', () => {
    const error = mapFixture('401-invalid-api-key');
    expect(error.code).toBe('GW_UPSTREAM_AUTH_FAILED');
    expect(error.message).toContain('Incorrect API key provided');
  });

  it("400 → GW_UPSTREAM_BAD_REQUEST with the ChatGPT backend's detail", () => {
    const error = mapFixture('400-chatgpt-detail');
    expect(error.code).toBe('GW_UPSTREAM_BAD_REQUEST');
    expect(error.message).toContain('Instructions are not valid');
    expect(error.retryable).toBe(false);
  });

  it('429 usage limit → GW_UPSTREAM_RATE_LIMITED, retryable, with Retry-After', () => {
    const error = mapFixture('429-usage-limit');
    expect(error.code).toBe('GW_UPSTREAM_RATE_LIMITED');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterSeconds).toBe(30);
  });

  it('503 → GW_UPSTREAM_OVERLOADED', () => {
    expect(mapFixture('503-overloaded').code).toBe('GW_UPSTREAM_OVERLOADED');
  });
});
