import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../helpers/binary-process.js';
import { generateTestClientKey, sha256Hex, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startHeldUpstream, type HeldUpstream } from '../helpers/held-upstream.js';
import { post, type JsonResponse } from '../helpers/http.js';

/**
 * Issue 14, budgets and the concurrency cap, memory backend (the Redis case across two processes
 * is test/e2e/key-budget-redis.test.ts). The upstream holds every answer until released, so all
 * admissions are decided while nothing has settled: the count admitted is the reservation's alone.
 */
export const budgetBody = { model: 'gpt-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };
/** What the gateway reserves for budgetBody: body bytes / 4 + max_tokens (limits/provider-limiter.ts estimateTokens). */
export const budgetEstimate = Math.ceil(Buffer.byteLength(JSON.stringify(budgetBody)) / 4) + budgetBody.max_tokens;
const codeOf = (answer: JsonResponse) => (answer.json as { error?: { code?: string } } | undefined)?.error?.code;

const keys = { budget: generateTestClientKey(), capped: generateTestClientKey(), waiting: generateTestClientKey(), rated: generateTestClientKey(), free: generateTestClientKey() };
let upstream: HeldUpstream;
let testGateway: TestGateway;

beforeAll(async () => {
  upstream = await startHeldUpstream();
  testGateway = await startTestGateway({
    providers: { oai: { type: 'openai', base_url: upstream.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] } },
    extra: {
      auth: {
        api_keys: [
          { id: 'ci', key_sha256: sha256Hex(keys.budget), budgets: { tokens_per_day: 10 * budgetEstimate } },
          { id: 'capped', key_sha256: sha256Hex(keys.capped), max_concurrency: 2 },
          { id: 'waiting', key_sha256: sha256Hex(keys.waiting), max_concurrency: 1, concurrency_wait_ms: 10_000 },
          { id: 'rated', key_sha256: sha256Hex(keys.rated), rate_limit: { requests_per_minute: 3 } },
          { id: 'free', key_sha256: sha256Hex(keys.free) },
        ],
      },
    },
  });
});
afterAll(async () => {
  await testGateway.stop();
  await upstream.close();
});
beforeEach(() => upstream.hold());

const chat = (key: string) => post(`${testGateway.url}/v1/chat/completions`, budgetBody, { authorization: `Bearer ${key}` });

describe('a daily token budget (memory backend)', () => {
  it('50 concurrent requests against 10 requests\' worth admit exactly 10; the others get 429 GW_KEY_BUDGET_EXCEEDED with Retry-After', async () => {
    const before = upstream.received();
    let refused = 0;
    const answers = Array.from({ length: 50 }, () =>
      chat(keys.budget).then((answer) => {
        if (answer.status === 429) refused += 1;
        return answer;
      }),
    );
    // Every refusal is decided while the 10 admitted are still held upstream (nothing settled yet).
    await until(() => refused === 40, 20_000, '40 refusals');
    await upstream.waitForReceived(before + 10);
    expect(upstream.received()).toBe(before + 10);
    upstream.release();
    const settled = await Promise.all(answers);
    expect(settled.filter((answer) => answer.status === 200)).toHaveLength(10);
    const refusals = settled.filter((answer) => answer.status === 429);
    expect(refusals).toHaveLength(40);
    for (const answer of refusals) {
      expect(codeOf(answer)).toBe('GW_KEY_BUDGET_EXCEEDED');
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  it('settles with the real usage: what the 10 did not use is given back, so the key is admitted again', async () => {
    upstream.release();
    // The 10 admitted reserved the whole budget; each used 15 tokens of its estimate: only the settles
    // (estimate replaced by the upstream's usage) make room for another request.
    await until(async () => (await chat(keys.budget)).status === 200, 10_000, 'the budget to be settled');
  });

  it('another key is not touched by this key\'s budget', async () => {
    upstream.release();
    expect((await chat(keys.free)).status).toBe(200);
  });
});

describe('the concurrency cap', () => {
  it('max_concurrency 2 without a wait: the third in flight gets 429 at once (OpenAI SDK: RateLimitError), the first two finish', async () => {
    const before = upstream.received();
    const first = chat(keys.capped);
    const second = chat(keys.capped);
    await upstream.waitForReceived(before + 2);
    const client = new OpenAI({ baseURL: `${testGateway.url}/v1`, apiKey: keys.capped, maxRetries: 0, timeout: 10_000 });
    const third = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    expect(third).toBeInstanceOf(OpenAI.RateLimitError);
    expect((third as InstanceType<typeof OpenAI.RateLimitError>).message).toContain('max_concurrency');
    expect(upstream.received()).toBe(before + 2);
    upstream.release();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    // The slots are free again.
    expect((await chat(keys.capped)).status).toBe(200);
  });

  it('max_concurrency 1 with concurrency_wait_ms: the second waits for the first, then goes upstream', async () => {
    const before = upstream.received();
    const first = chat(keys.waiting);
    await upstream.waitForReceived(before + 1);
    const second = chat(keys.waiting);
    // While the first is held, the second is not sent upstream (it waits for the slot).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(upstream.received()).toBe(before + 1);
    upstream.release();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(upstream.received()).toBe(before + 2);
  });
});

describe('a per-key rate limit', () => {
  it('3 requests per minute: the fourth gets 429 GW_RATE_LIMITED naming the key', async () => {
    upstream.release();
    for (let index = 0; index < 3; index += 1) expect((await chat(keys.rated)).status).toBe(200);
    const fourth = await chat(keys.rated);
    expect(fourth.status).toBe(429);
    expect(codeOf(fourth)).toBe('GW_RATE_LIMITED');
    expect(JSON.stringify(fourth.json)).toContain("'rated'");
    expect((await chat(keys.free)).status).toBe(200);
  });
});
