import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyReload } from '../../src/main.js';
import { createClientKey, updateClientKey } from '../../src/security/client-keys.js';
import { startAnthropicStub, startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { generateTestClientKey, sha256Hex, startTestGateway, type StartTestGatewayOptions, type TestGateway } from '../helpers/gateway.js';
import { callManagement, generateManagementKeys } from '../helpers/management.js';
import { get } from '../helpers/http.js';

/**
 * Issue 14, scopes: a key limited to `claude-*` gets 403 GW_MODEL_NOT_ALLOWED for an OpenAI model on
 * every route that reaches an upstream (chat, Responses, messages, count_tokens, Gemini), in each
 * surface's error shape as the real SDKs read it, and every model list it can ask for shows only
 * Claude models. The same for a key from the config and one from the key file; an expired and a
 * disabled key are 401 saying so; a scope change reaches the running server through the reload.
 */
let openaiStub: StubUpstream;
let anthropicStub: StubUpstream;
let testGateway: TestGateway;
let options: StartTestGatewayOptions;
const configScopedKey = generateTestClientKey();
const management = generateManagementKeys();
let fileScopedKey: string;
let expiredKey: string;
let disabledKey: string;
let openKey: string;

beforeAll(async () => {
  openaiStub = await startOpenAIStub();
  anthropicStub = await startAnthropicStub();
  options = {
    providers: {
      oai: { type: 'openai', base_url: openaiStub.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] },
      ant: { type: 'anthropic', base_url: anthropicStub.baseUrl, api_keys: ['test-upstream-key-0101'], models: [{ name: 'claude-test', alias: 'sonnet-test' }] },
    },
    extra: {
      auth: { client_keys_file: './keys/client-keys.json', api_keys: [{ id: 'config-team', key_sha256: sha256Hex(configScopedKey), models: ['claude-*'], metadata: { team: 'search' } }] },
      management: management.config(),
    },
  };
  testGateway = await startTestGateway(options);
  const loaded = testGateway.buildConfig(options);
  fileScopedKey = createClientKey(loaded, 'file-team', { models: ['claude-*'] }).key;
  expiredKey = createClientKey(loaded, 'contractor', { expires_at: '2020-01-31T23:59:59Z' }).key;
  disabledKey = createClientKey(loaded, 'paused', { disabled: true }).key;
  openKey = createClientKey(loaded, 'open').key;
  expect(applyReload(testGateway.gateway, loaded)).toBe(true);
});
afterAll(async () => {
  await testGateway.stop();
  await Promise.all([openaiStub.close(), anthropicStub.close()]);
});

const openaiFor = (key: string) => new OpenAI({ baseURL: `${testGateway.url}/v1`, apiKey: key, maxRetries: 0, timeout: 10_000 });
const anthropicFor = (key: string) => new Anthropic({ baseURL: testGateway.url, apiKey: key, maxRetries: 0, timeout: 10_000 });
const geminiFor = (key: string) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: testGateway.url } });
const messages = [{ role: 'user' as const, content: 'hi' }];

async function refusal(call: Promise<unknown>): Promise<{ status: number; text: string }> {
  try {
    await call;
  } catch (error) {
    const failure = error as { status?: number; code?: number; message: string; error?: unknown };
    return { status: failure.status ?? failure.code ?? 0, text: `${failure.message} ${JSON.stringify(failure.error ?? {})}` };
  }
  throw new Error('expected a refusal');
}

describe.each([
  ['from the config', () => configScopedKey],
  ['from the key file', () => fileScopedKey],
])('a key limited to claude-* %s', (_source, keyOf) => {
  it('is refused gpt-test with 403 GW_MODEL_NOT_ALLOWED on chat, Responses, messages, count_tokens and Gemini, naming its scope only', async () => {
    const key = keyOf();
    const before = openaiStub.requests.length;
    const refusals = [
      await refusal(openaiFor(key).chat.completions.create({ model: 'gpt-test', messages })),
      await refusal(openaiFor(key).chat.completions.create({ model: 'gpt-test', messages, stream: true })),
      await refusal(openaiFor(key).responses.create({ model: 'gpt-test', input: 'hi' })),
      await refusal(anthropicFor(key).messages.create({ model: 'gpt-test', max_tokens: 16, messages })),
      await refusal(anthropicFor(key).messages.countTokens({ model: 'gpt-test', messages })),
      await refusal(geminiFor(key).models.generateContent({ model: 'gpt-test', contents: 'hi' })),
      await refusal(geminiFor(key).models.countTokens({ model: 'gpt-test', contents: 'hi' })),
    ];
    for (const answer of refusals) {
      expect(answer.status).toBe(403);
      expect(answer.text).toContain('claude-*');
      // What it may use, never what else exists.
      expect(answer.text).not.toContain('claude-test');
    }
    expect(refusals[0]!.text).toContain('GW_MODEL_NOT_ALLOWED');
    expect(refusals[3]!.text).toContain('permission_error');
    expect(refusals[5]!.text).toContain('PERMISSION_DENIED');
    expect(openaiStub.requests.length).toBe(before);
  });

  it('reaches claude-test (and its alias) through each SDK', async () => {
    const key = keyOf();
    const answer = await anthropicFor(key).messages.create({ model: 'sonnet-test', max_tokens: 16, messages });
    expect(answer.type).toBe('message');
    const viaOpenai = await openaiFor(key).chat.completions.create({ model: 'claude-test', messages });
    expect(viaOpenai.choices[0]?.message.role).toBe('assistant');
  });

  it('sees only the Claude models in every model list', async () => {
    const key = keyOf();
    const openaiList = await openaiFor(key).models.list();
    expect(openaiList.data.map((model) => model.id).sort()).toEqual(['claude-test', 'sonnet-test']);
    const anthropicList = await anthropicFor(key).models.list();
    expect(anthropicList.data.map((model) => model.id).sort()).toEqual(['claude-test', 'sonnet-test']);
    const geminiList = await get(`${testGateway.url}/v1beta/models`, { 'x-goog-api-key': key });
    expect((geminiList.json as { models: { name: string }[] }).models.map((model) => model.name).sort()).toEqual(['models/claude-test', 'models/sonnet-test']);
    // An unscoped key still sees everything.
    expect((await openaiFor(openKey).models.list()).data.map((model) => model.id).sort()).toEqual(['claude-test', 'gpt-test', 'sonnet-test']);
  });
});

describe('expiry and disabling', () => {
  it('an expired key gets 401 GW_KEY_EXPIRED saying "expired"; a disabled one 401 GW_KEY_DISABLED; an unknown one stays GW_UNAUTHORIZED', async () => {
    const expired = await refusal(openaiFor(expiredKey).chat.completions.create({ model: 'claude-test', messages }));
    expect(expired.status).toBe(401);
    expect(expired.text).toContain('expired');
    expect(expired.text).toContain('GW_KEY_EXPIRED');
    const disabled = await refusal(anthropicFor(disabledKey).messages.create({ model: 'claude-test', max_tokens: 16, messages }));
    expect(disabled.status).toBe(401);
    expect(disabled.text).toContain('disabled');
    expect((await get(`${testGateway.url}/v1/models`, { authorization: `Bearer ${generateTestClientKey()}` })).status).toBe(401);
  });
});

describe('a scope change by hot reload and through the management API', () => {
  it('keys update widens the file key to gpt-* only; the reload applies it to the running server', async () => {
    const loaded = testGateway.buildConfig(options);
    expect(updateClientKey(loaded, 'file-team', { models: ['gpt-*'] })).toBe('updated');
    expect(applyReload(testGateway.gateway, testGateway.buildConfig(options))).toBe(true);
    const answer = await openaiFor(fileScopedKey).chat.completions.create({ model: 'gpt-test', messages });
    expect(answer.choices[0]?.message.role).toBe('assistant');
    expect((await refusal(anthropicFor(fileScopedKey).messages.create({ model: 'claude-test', max_tokens: 16, messages }))).status).toBe(403);
    expect((await openaiFor(fileScopedKey).models.list()).data.map((model) => model.id)).toEqual(['gpt-test']);
  });

  it('PATCH /v0/management/api-keys changes a file key at once, refuses a config key (409) and bad fields (400); GET shows fields, never hashes', async () => {
    const url = testGateway.url;
    const key = management.keys.admin;
    const patched = await callManagement(url, 'PATCH', '/v0/management/api-keys/contractor', { key, body: { expires_at: null, models: ['claude-*'], budgets: { tokens_per_day: 1000 } } });
    expect(patched.status).toBe(200);
    expect(patched.json['api_key']).toMatchObject({ id: 'contractor', status: 'active', models: ['claude-*'], budgets: { tokens_per_day: 1000 } });
    expect((await anthropicFor(expiredKey).messages.create({ model: 'claude-test', max_tokens: 16, messages })).type).toBe('message');
    expect((await callManagement(url, 'PATCH', '/v0/management/api-keys/config-team', { key, body: { disabled: true } })).status).toBe(409);
    const bad = await callManagement(url, 'PATCH', '/v0/management/api-keys/contractor', { key, body: { expires_at: '2027-02-30T00:00:00Z' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error?.message).toContain('expires_at');
    expect((await callManagement(url, 'PATCH', '/v0/management/api-keys/contractor', { key, body: { models: [] } })).status).toBe(400);
    expect((await callManagement(url, 'PATCH', '/v0/management/api-keys/contractor', { key: management.keys.operator, body: { disabled: true } })).status).toBe(403);
    const created = await callManagement(url, 'POST', '/v0/management/api-keys', { key, body: { id: 'ci', budgets: { tokens_per_day: 5000 }, metadata: { owner: 'ci-bot' } } });
    expect(created.status).toBe(201);
    const listed = await callManagement(url, 'GET', '/v0/management/api-keys', { key: management.keys.auditor });
    expect(listed.json['api_keys']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'config-team', source: 'config', status: 'active', models: ['claude-*'], metadata: { team: 'search' } }),
        expect.objectContaining({ id: 'paused', status: 'disabled' }),
        expect.objectContaining({ id: 'ci', budgets: { tokens_per_day: 5000 }, metadata: { owner: 'ci-bot' } }),
      ]),
    );
    expect(listed.text).not.toMatch(/[0-9a-f]{64}/);
    expect(listed.text).not.toContain('key_sha256');
  });
});
