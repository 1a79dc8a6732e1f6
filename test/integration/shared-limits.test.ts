import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisServerAvailable, startRedisServer, type RedisServerHandle } from '../../src/state/__fixtures__/redis-server.js';
import { startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { generateTestClientKey, sha256Hex, startTestGateway, type TestGateway, type TestProviderConfig } from '../helpers/gateway.js';
import { post, type JsonResponse } from '../helpers/http.js';
import { startSlowLink, type SlowLink } from '../helpers/slow-link.js';

/**
 * `state.backend: redis`: two gateways on one real redis-server share the per-IP buckets, the
 * provider budgets and the credential cooldowns; a Redis killed mid-test applies each limit's
 * failure policy at once (no 5 s wait per request), logs once, counts, and never crashes.
 */

const hasRedis = redisServerAvailable();
const chatPath = '/v1/chat/completions';
const codeOf = (response: JsonResponse) => (response.json as { error?: { code?: string } } | undefined)?.error?.code;

describe.skipIf(!hasRedis)('shared limits on one Redis (real redis-server, two gateways)', () => {
  let redis: RedisServerHandle;
  let stub: StubUpstream;
  let link: SlowLink | undefined;
  const started: TestGateway[] = [];

  beforeAll(async () => {
    stub = await startOpenAIStub();
  });
  afterAll(async () => {
    await stub.close();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((gateway) => gateway.stop()));
    await link?.close();
    link = undefined;
    await redis?.stop();
    stub.reset();
  });

  /** `slowFirst`: the first gateway reaches Redis through a SlowLink (`link`, no delay until a test sets one). */
  async function twoGateways(
    provider: Partial<TestProviderConfig>,
    server: Record<string, unknown> = {},
    auth: Record<string, unknown> = {},
    { slowFirst = false }: { slowFirst?: boolean } = {},
  ): Promise<[TestGateway, TestGateway]> {
    redis = await startRedisServer();
    if (slowFirst) link = await startSlowLink(Number(new URL(redis.url).port));
    const make = async (url: string) => {
      const gateway = await startTestGateway({
        providers: {
          oai: { type: 'openai', base_url: stub.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }], ...provider },
          free: { type: 'openai', base_url: stub.baseUrl, api_keys: ['test-upstream-key-0002'], models: [{ name: 'gpt-free' }] },
        },
        extra: { state: { backend: 'redis', url }, server, auth },
      });
      started.push(gateway);
      return gateway;
    };
    return [await make(link?.url ?? redis.url), await make(redis.url)];
  }

  const chat = (gateway: TestGateway, model = 'gpt-test') =>
    post(gateway.url + chatPath, { model, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${gateway.clientKey}` });

  it('a provider budget of 7 requests per minute admits exactly 7 of 20 concurrent requests spread over both gateways', async () => {
    const [first, second] = await twoGateways({ rate_limit: { requests_per_minute: 7 } });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => chat(index % 2 === 0 ? first : second)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(7);
    expect(answers.filter((answer) => answer.status === 429 && codeOf(answer) === 'GW_RATE_LIMITED')).toHaveLength(13);
    expect(stub.requests.filter((request) => request.apiKey === 'test-upstream-key-0001')).toHaveLength(7);
  });

  it('a request its provider\'s budget refuses gives its key\'s per-minute slot back in Redis: the key keeps the rest of its minute on both gateways', async () => {
    const limitedKey = generateTestClientKey();
    const [first, second] = await twoGateways({ rate_limit: { requests_per_minute: 1 } }, {}, { api_keys: [{ id: 'limited', key_sha256: sha256Hex(limitedKey), rate_limit: { requests_per_minute: 2 } }] });
    const limitedChat = (gateway: TestGateway, model: string) =>
      post(gateway.url + chatPath, { model, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${limitedKey}` });
    expect((await limitedChat(first, 'gpt-test')).status).toBe(200); // the provider's one request of the minute, the key's first
    for (const gateway of [second, first, second]) {
      const refused = await limitedChat(gateway, 'gpt-test');
      expect(codeOf(refused)).toBe('GW_RATE_LIMITED');
      expect(refused.text).toContain("Provider 'oai'");
    }
    // Without the give-back, the first refusal would have taken the key's second slot.
    expect((await limitedChat(second, 'gpt-free')).status).toBe(200);
  });

  // The refusals below come from a gateway whose commands reach Redis 200 ms late (a slow link; its
  // answers come back at once). A give-back fired without waiting would land 200 ms after the
  // refusal; the client's retry on the other gateway reaches Redis long before that. Answering only
  // once the give-back is in Redis, the gateway makes the retry's outcome independent of timing.
  const slowLinkMs = 200;
  const keyChat = (gateway: TestGateway, key: string, model: string) =>
    post(gateway.url + chatPath, { model, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${key}` });

  it('a refusal by the provider\'s budget is answered only once the key\'s request slot and budget are back in Redis: a retry at once on the other gateway is served', async () => {
    const [limitedKey, otherKey] = [generateTestClientKey(), generateTestClientKey()];
    // One request a minute and a day's budget of one request's estimate (about 10 + 100 tokens).
    const limits = { rate_limit: { requests_per_minute: 1 }, budgets: { tokens_per_day: 150 } };
    const [slow, direct] = await twoGateways(
      { rate_limit: { requests_per_minute: 1 } },
      {},
      { api_keys: [{ id: 'other', key_sha256: sha256Hex(otherKey) }, { id: 'limited', key_sha256: sha256Hex(limitedKey), ...limits }] },
      { slowFirst: true },
    );
    expect((await keyChat(direct, otherKey, 'gpt-test')).status).toBe(200); // the provider's one request of the minute, by another key
    link!.delayMs = slowLinkMs;
    const refused = await keyChat(slow, limitedKey, 'gpt-test');
    expect(codeOf(refused)).toBe('GW_RATE_LIMITED');
    expect(refused.text).toContain("Provider 'oai'");
    const retried = await keyChat(direct, limitedKey, 'gpt-free');
    expect(retried.status, retried.text).toBe(200);
  });

  it('a 503 GW_NO_CREDENTIAL_AVAILABLE is answered only once the key\'s request slot is back in Redis: a retry at once on the other gateway is served', async () => {
    const [limitedKey, otherKey] = [generateTestClientKey(), generateTestClientKey()];
    const [slow, direct] = await twoGateways(
      {},
      {},
      { api_keys: [{ id: 'other', key_sha256: sha256Hex(otherKey) }, { id: 'limited', key_sha256: sha256Hex(limitedKey), rate_limit: { requests_per_minute: 1 } }] },
      { slowFirst: true },
    );
    // The slow gateway's only credential of 'oai' cools down for a minute.
    stub.failNext({ status: 429, headers: { 'retry-after': '60' } }, { whenKey: 'test-upstream-key-0001' });
    expect(codeOf(await keyChat(slow, otherKey, 'gpt-test'))).toBe('GW_UPSTREAM_RATE_LIMITED');
    link!.delayMs = slowLinkMs;
    const unsent = await keyChat(slow, limitedKey, 'gpt-test');
    expect(codeOf(unsent), unsent.text).toBe('GW_NO_CREDENTIAL_AVAILABLE');
    const retried = await keyChat(direct, limitedKey, 'gpt-free');
    expect(retried.status, retried.text).toBe(200);
  });

  it('content its bridge cannot carry (a 400 after the limits admitted the request) is answered only once the key\'s request slot is back in Redis', async () => {
    const limitedKey = generateTestClientKey();
    const [slow, direct] = await twoGateways({}, {}, { api_keys: [{ id: 'limited', key_sha256: sha256Hex(limitedKey), rate_limit: { requests_per_minute: 1 } }] }, { slowFirst: true });
    link!.delayMs = slowLinkMs;
    // An Anthropic server tool has no OpenAI counterpart: the anthropic → openai bridge refuses it.
    const body = { model: 'gpt-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'web_search_20250305', name: 'web_search' }] };
    const refused = await post(slow.url + '/v1/messages', body, { 'x-api-key': limitedKey, 'anthropic-version': '2023-06-01' });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.text).toContain('web_search');
    const retried = await keyChat(direct, limitedKey, 'gpt-free');
    expect(retried.status, retried.text).toBe(200);
  });

  it('the per-IP bucket is one bucket across both gateways', async () => {
    const [first, second] = await twoGateways({}, { security: { rate_limit: { enabled: true, requests_per_second: 1, burst: 10 } } });
    const startedAt = Date.now();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, index) => chat(index % 2 === 0 ? first : second, 'gpt-free')));
    const elapsedSeconds = (Date.now() - startedAt) / 1000;
    const admitted = answers.filter((answer) => answer.status === 200).length;
    // The burst, plus at most what refilled (1 per second) while the requests ran: never 10 per gateway.
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(admitted).toBeLessThanOrEqual(10 + Math.ceil(elapsedSeconds));
    expect(admitted).toBeLessThan(20);
  });

  it('a credential cooled by one gateway after an upstream 429 sits out in the other too', async () => {
    const [first, second] = await twoGateways({});
    stub.failNext({ status: 429, headers: { 'retry-after': '60' } }, { whenKey: 'test-upstream-key-0001' });
    const limited = await chat(first);
    expect(codeOf(limited)).toBe('GW_UPSTREAM_RATE_LIMITED');
    const sentBefore = stub.requests.length;
    let answer: JsonResponse | undefined;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      answer = await chat(second);
      if (answer.status === 503) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(codeOf(answer!)).toBe('GW_NO_CREDENTIAL_AVAILABLE');
    expect(Number(answer!.headers.get('retry-after'))).toBeGreaterThan(30);
    // Only requests sent before the announcement arrived reached the upstream.
    const sentAfter = stub.requests.length;
    expect(codeOf(await chat(second))).toBe('GW_NO_CREDENTIAL_AVAILABLE');
    expect(stub.requests.length).toBe(sentAfter);
    expect(sentAfter - sentBefore).toBeLessThan(100);
  });

  it('Redis killed mid-test: per-IP falls back to this process, provider budgets fail closed, one log line, no hang, no crash', async () => {
    const [gateway] = await twoGateways({ rate_limit: { requests_per_minute: 1_000 } }, { security: { rate_limit: { enabled: true, requests_per_second: 1_000, burst: 1_000 } } });
    expect((await chat(gateway)).status).toBe(200);
    await redis.kill();
    const limited: JsonResponse[] = [];
    const free: JsonResponse[] = [];
    for (let index = 0; index < 10; index += 1) {
      limited.push(await chat(gateway));
      free.push(await chat(gateway, 'gpt-free'));
    }
    // The budgeted provider: 429 while the shared state is unknown (never over-admitting across replicas).
    for (const answer of limited) {
      expect(answer.status).toBe(429);
      expect(answer.json).toMatchObject({ error: { code: 'GW_RATE_LIMITED', message: "The rate-limit state of provider 'oai' is unavailable; retry later." } });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // No budget: served, the per-IP limit applied from this process's buckets.
    for (const answer of free) expect(answer.status).toBe(200);
    const { counters } = gateway.gateway.network;
    // The circuit opened at the first failure: the 39 calls after it were not sent (no 5 s wait each).
    expect(counters.stateFailures).toBeGreaterThanOrEqual(1);
    expect(counters.stateFailures).toBeLessThanOrEqual(3);
    expect(counters.stateFailures + counters.stateSkipped).toBe(30);
    expect(gateway.logs.filter((line) => line.includes('rate-limit state backend failed'))).toHaveLength(1);
    expect(gateway.logs.join('\n')).not.toContain(redis.url.replace('redis://', ''));
  });
});
