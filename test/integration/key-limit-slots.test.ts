import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyReload } from '../../src/main.js';
import { createClientKey, updateClientKey } from '../../src/security/client-keys.js';
import { startAnthropicStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { startTestGateway, type StartTestGatewayOptions, type TestGateway } from '../helpers/gateway.js';
import { startHeldUpstream, type HeldUpstream } from '../helpers/held-upstream.js';
import { post, type JsonResponse } from '../helpers/http.js';

/**
 * Issue 14, what takes a slot of a client key's limits:
 * - the token-counting routes (`/v1/messages/count_tokens`, Gemini `:countTokens`) are one request
 *   of the key's `requests_per_minute` and hold a `max_concurrency` slot, but take no tokens of
 *   `tokens_per_minute` and nothing of its budgets (they generate nothing);
 * - a request refused (its key's budget spent, or its provider's budget) takes no per-minute slot:
 *   once the budget is raised by a hot reload of the key file, the key has its whole minute;
 * - nor does a request answered 503 GW_NO_CREDENTIAL_AVAILABLE (nothing was sent upstream), of the
 *   key's minute or of its provider's, nor one whose content its bridge refuses (400, nothing sent).
 * The gateway's clock is frozen, so the per-minute buckets do not refill while the test runs: every
 * count below is exact on a slow machine.
 */
let anthropicStub: StubUpstream;
let upstream: HeldUpstream;
let testGateway: TestGateway;
let options: StartTestGatewayOptions;
const keys: Record<string, string> = {};
const budgetBody = { model: 'gpt-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };
/** What the gateway reserves for a chat of budgetBody: body bytes / 4 + max_tokens (estimateTokens). */
const budgetEstimate = Math.ceil(Buffer.byteLength(JSON.stringify(budgetBody)) / 4) + budgetBody.max_tokens;
const frozenNow = Date.UTC(2026, 11, 3, 12, 0, 0);

beforeAll(async () => {
  anthropicStub = await startAnthropicStub();
  upstream = await startHeldUpstream();
  options = {
    now: () => frozenNow,
    providers: {
      oai: { type: 'openai', base_url: upstream.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] },
      metered: { type: 'openai', base_url: upstream.baseUrl, api_keys: ['test-upstream-key-0002'], models: [{ name: 'gpt-metered' }], rate_limit: { requests_per_minute: 1 } },
      ant: { type: 'anthropic', base_url: anthropicStub.baseUrl, api_keys: ['test-upstream-key-0101'], models: [{ name: 'claude-test' }] },
      // No credential at all: every request is answered 503 before anything is sent.
      empty: { type: 'openai', base_url: upstream.baseUrl, api_keys: [], models: [{ name: 'gpt-empty' }], rate_limit: { requests_per_minute: 2 } },
    },
    extra: { auth: { client_keys_file: './keys/client-keys.json' } },
  };
  testGateway = await startTestGateway(options);
  const loaded = testGateway.buildConfig(options);
  keys['counting'] = createClientKey(loaded, 'counting', { rate_limit: { requests_per_minute: 3 } }).key;
  // A token rate that holds one chat, and a spent budget: counting touches neither.
  keys['tokens'] = createClientKey(loaded, 'tokens', { rate_limit: { requests_per_minute: 30, tokens_per_minute: budgetEstimate } }).key;
  keys['broke'] = createClientKey(loaded, 'broke', { budgets: { tokens_per_day: 1 } }).key;
  keys['single'] = createClientKey(loaded, 'single', { max_concurrency: 1 }).key;
  keys['spent'] = createClientKey(loaded, 'spent', { rate_limit: { requests_per_minute: 3 }, budgets: { tokens_per_day: 1 } }).key;
  keys['provider-refused'] = createClientKey(loaded, 'provider-refused', { rate_limit: { requests_per_minute: 2 } }).key;
  keys['unsent'] = createClientKey(loaded, 'unsent', { rate_limit: { requests_per_minute: 2 }, max_concurrency: 1, budgets: { tokens_per_day: budgetEstimate * 2 } }).key;
  keys['uncountable'] = createClientKey(loaded, 'uncountable', { rate_limit: { requests_per_minute: 1 } }).key;
  keys['untranslatable'] = createClientKey(loaded, 'untranslatable', { rate_limit: { requests_per_minute: 2 }, max_concurrency: 1, budgets: { tokens_per_day: budgetEstimate * 2 } }).key;
  expect(applyReload(testGateway.gateway, loaded)).toBe(true);
});
afterAll(async () => {
  await testGateway.stop();
  await Promise.all([anthropicStub.close(), upstream.close()]);
});
beforeEach(() => upstream.release());

const codeOf = (answer: JsonResponse) => (answer.json as { error?: { code?: string } } | undefined)?.error?.code;
const chat = (key: string, model = 'gpt-test') => post(`${testGateway.url}/v1/chat/completions`, { ...budgetBody, model }, { authorization: `Bearer ${key}` });
const anthropicCount = (key: string) => post(`${testGateway.url}/v1/messages/count_tokens`, { model: 'claude-test', messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': key, 'anthropic-version': '2023-06-01' });
const geminiCount = (key: string) => post(`${testGateway.url}/v1beta/models/claude-test:countTokens`, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }, { 'x-goog-api-key': key });

describe('the token-counting routes under a key\'s limits', () => {
  it('count as requests of requests_per_minute (Anthropic SDK and Gemini SDK): the fourth request of a 3-per-minute key is 429 GW_RATE_LIMITED', async () => {
    const before = anthropicStub.requests.length;
    const anthropic = new Anthropic({ baseURL: testGateway.url, apiKey: keys['counting']!, maxRetries: 0, timeout: 10_000 });
    expect((await anthropic.messages.countTokens({ model: 'claude-test', messages: [{ role: 'user', content: 'hi' }] })).input_tokens).toBeGreaterThan(0);
    const gemini = new GoogleGenAI({ apiKey: keys['counting']!, httpOptions: { baseUrl: testGateway.url } });
    expect((await gemini.models.countTokens({ model: 'claude-test', contents: 'hi' })).totalTokens).toBeGreaterThan(0);
    expect((await anthropicCount(keys['counting']!)).status).toBe(200);
    const refused = await anthropic.messages.countTokens({ model: 'claude-test', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Anthropic.RateLimitError);
    expect(String((refused as Error).message)).toContain("'counting'");
    const geminiRefused = await geminiCount(keys['counting']!);
    expect(geminiRefused.status).toBe(429);
    expect(geminiRefused.headers.get('retry-after')).not.toBeNull();
    // The same minute as the key's chats: they are refused too.
    expect(codeOf(await chat(keys['counting']!))).toBe('GW_RATE_LIMITED');
    // Two of the three admitted counts reached the upstream (Gemini's is estimated); the refused ones did not.
    expect(anthropicStub.requests.length - before).toBe(2);
  });

  it('take nothing of tokens_per_minute or the budgets: after ten counts the token rate still holds a chat, and a key whose budget is spent still counts', async () => {
    for (let index = 0; index < 5; index += 1) {
      expect((await anthropicCount(keys['tokens']!)).status).toBe(200);
      expect((await geminiCount(keys['tokens']!)).status).toBe(200);
    }
    expect((await chat(keys['tokens']!)).status).toBe(200);
    expect(codeOf(await chat(keys['broke']!))).toBe('GW_KEY_BUDGET_EXCEEDED');
    expect((await anthropicCount(keys['broke']!)).status).toBe(200);
    expect((await geminiCount(keys['broke']!)).status).toBe(200);
  });

  it('hold a max_concurrency slot: with a chat of a max_concurrency 1 key in flight, its counts get 429; once it ends they pass', async () => {
    upstream.hold();
    const before = upstream.received();
    const inFlight = chat(keys['single']!);
    await upstream.waitForReceived(before + 1);
    for (const answer of [await anthropicCount(keys['single']!), await geminiCount(keys['single']!)]) {
      expect(answer.status).toBe(429);
      expect(answer.text).toContain('max_concurrency');
    }
    upstream.release();
    expect((await inFlight).status).toBe(200);
    expect((await anthropicCount(keys['single']!)).status).toBe(200);
    expect((await geminiCount(keys['single']!)).status).toBe(200);
  });
});

describe('a refused request takes no per-minute slot of its key', () => {
  it('budget spent: five refusals (429 GW_KEY_BUDGET_EXCEEDED), then the budget raised by a hot reload of the key file: the key has its 3 requests of the minute', async () => {
    for (let index = 0; index < 5; index += 1) expect(codeOf(await chat(keys['spent']!))).toBe('GW_KEY_BUDGET_EXCEEDED');
    const loaded = testGateway.buildConfig(options);
    expect(updateClientKey(loaded, 'spent', { budgets: { tokens_per_day: 1_000_000 } })).toBe('updated');
    expect(applyReload(testGateway.gateway, loaded)).toBe(true);
    for (let index = 0; index < 3; index += 1) expect((await chat(keys['spent']!)).status).toBe(200);
    const fourth = await chat(keys['spent']!);
    expect(codeOf(fourth)).toBe('GW_RATE_LIMITED');
    expect(fourth.text).toContain("API key 'spent'");
  });

  it('refused by its provider\'s budget: the key\'s slot goes back, so the key still has the rest of its minute on another provider', async () => {
    const key = keys['provider-refused']!;
    expect((await chat(key, 'gpt-metered')).status).toBe(200); // the provider's 1 request of the minute
    for (let index = 0; index < 3; index += 1) {
      const refused = await chat(key, 'gpt-metered');
      expect(codeOf(refused)).toBe('GW_RATE_LIMITED');
      expect(refused.text).toContain("Provider 'metered'");
    }
    expect((await chat(key)).status).toBe(200); // the key's second request of the minute
    expect(await chat(key).then((answer) => answer.text)).toContain("API key 'provider-refused'");
  });

  it('answered 503 GW_NO_CREDENTIAL_AVAILABLE (nothing sent): neither the key nor the provider loses a request, a slot or budget', async () => {
    const key = keys['unsent']!;
    // Four times the key's and the provider's 2 requests a minute: each is the 503, never a 429.
    for (let index = 0; index < 4; index += 1) {
      const answer = await chat(key, 'gpt-empty');
      expect(codeOf(answer), `request ${index + 1}: ${answer.text}`).toBe('GW_NO_CREDENTIAL_AVAILABLE');
    }
    // The key's whole minute and budget (two chats' estimates) are still there; the third is its limit.
    for (let index = 0; index < 2; index += 1) expect((await chat(key)).status).toBe(200);
    expect(await chat(key).then((answer) => answer.text)).toContain("API key 'unsent'");
  });

  it('refused by its bridge after the limits admitted it (400, nothing sent): the key loses no request, slot or budget', async () => {
    const key = keys['untranslatable']!;
    // An Anthropic server tool has no OpenAI counterpart: the anthropic → openai bridge refuses it.
    const serverTool = { ...budgetBody, tools: [{ type: 'web_search_20250305', name: 'web_search' }] };
    for (let index = 0; index < 4; index += 1) {
      const answer = await post(`${testGateway.url}/v1/messages`, serverTool, { 'x-api-key': key, 'anthropic-version': '2023-06-01' });
      expect(answer.status, `request ${index + 1}: ${answer.text}`).toBe(400);
    }
    for (let index = 0; index < 2; index += 1) expect((await chat(key)).status).toBe(200);
    expect(await chat(key).then((answer) => answer.text)).toContain("API key 'untranslatable'");
  });

  it('a Gemini count its translation refuses after the limits admitted it (400): the key keeps its one request of the minute', async () => {
    const key = keys['uncountable']!;
    // A functionResponse that answers no earlier functionCall: the Gemini → Anthropic translation refuses it.
    const orphan = { contents: [{ role: 'user', parts: [{ functionResponse: { name: 'lookup', response: { result: 'x' } } }] }] };
    for (let index = 0; index < 3; index += 1) {
      const answer = await post(`${testGateway.url}/v1beta/models/claude-test:countTokens`, orphan, { 'x-goog-api-key': key });
      expect(answer.status, `request ${index + 1}: ${answer.text}`).toBe(400);
    }
    expect((await geminiCount(key)).status).toBe(200);
    expect((await geminiCount(key)).status).toBe(429);
  });
});
