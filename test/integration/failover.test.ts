import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { getRefusedPort } from '../fixtures/stub-upstreams/index.js';
import { post } from '../helpers/http.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * Credential failover and cooldown. Keys get explicit priorities (0 before 1), so "the first key"
 * is deterministic instead of depending on where round-robin stands. Each test gets its own gateway:
 * cooldowns are state, and a 500 cools every key down for a minute.
 */
const firstKey = 'test-upstream-key-0001';
const secondKey = 'test-upstream-key-0002';
const prioritizedKeys = [
  { key: firstKey, priority: 0 },
  { key: secondKey, priority: 1 },
];

let setup: StandardSetup | undefined;
afterEach(async () => {
  await setup?.stop();
  setup = undefined;
});

function chat(gatewaySetup: StandardSetup, model: string): ReturnType<typeof post> {
  return post(`${gatewaySetup.testGateway.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] }, {
    authorization: `Bearer ${gatewaySetup.testGateway.clientKey}`,
  });
}

function messages(gatewaySetup: StandardSetup, model: string): ReturnType<typeof post> {
  return post(`${gatewaySetup.testGateway.url}/v1/messages`, { model, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }, {
    'x-api-key': gatewaySetup.testGateway.clientKey,
    'anthropic-version': '2023-06-01',
  });
}

describe('failover between credentials', () => {
  it('retries a 429 on the second key, then keeps off the first until Retry-After passes', async () => {
    setup = await startStandardSetup({ openaiKeys: prioritizedKeys });
    const stub = setup.openaiStub;
    stub.failNext({ status: 429, headers: { 'retry-after': '1' } }, { whenKey: firstKey });

    const failedOver = await chat(setup, 'gpt-test');
    expect(failedOver.status).toBe(200);
    expect(stub.requests.map((request) => request.apiKey)).toEqual([firstKey, secondKey]);

    // The first key cools down for Retry-After (1 s): the next request goes straight to the second.
    const duringCooldown = await chat(setup, 'gpt-test');
    expect(duringCooldown.status).toBe(200);
    expect(stub.requests.slice(2).map((request) => request.apiKey)).toEqual([secondKey]);

    await delay(1_200);
    const afterCooldown = await chat(setup, 'gpt-test');
    expect(afterCooldown.status).toBe(200);
    expect(stub.requests.slice(3).map((request) => request.apiKey)).toEqual([firstKey]);
  });

  it('retries an Anthropic 429 on the second key through the Anthropic surface', async () => {
    const anthropicKeys = [
      { key: 'test-upstream-key-0101', priority: 0 },
      { key: 'test-upstream-key-0102', priority: 1 },
    ];
    setup = await startStandardSetup({ anthropicKeys });
    setup.anthropicStub.failNext({ status: 429, headers: { 'retry-after': '1' } }, { whenKey: 'test-upstream-key-0101' });
    const response = await messages(setup, 'claude-test');
    expect(response.status).toBe(200);
    expect(setup.anthropicStub.requests.map((request) => request.apiKey)).toEqual(['test-upstream-key-0101', 'test-upstream-key-0102']);
  });

  it('moves off a key the upstream rejects with 401', async () => {
    setup = await startStandardSetup({ openaiKeys: prioritizedKeys });
    setup.openaiStub.failNext({ status: 401 }, { whenKey: firstKey });
    const response = await chat(setup, 'gpt-test');
    expect(response.status).toBe(200);
    expect(setup.openaiStub.requests.map((request) => request.apiKey)).toEqual([firstKey, secondKey]);
  });

  it('answers 502 in each surface shape when every key gets a 500', async () => {
    setup = await startStandardSetup({
      extraProviders: ({ openaiStub }) => ({
        oai2: { type: 'openai', base_url: openaiStub.baseUrl, api_keys: ['test-upstream-key-0201', 'test-upstream-key-0202'], models: [{ name: 'gpt-other' }] },
      }),
    });
    setup.openaiStub.failNext({ status: 500 }, { times: 100 });

    const openaiSurface = await chat(setup, 'gpt-test');
    expect(openaiSurface.status).toBe(502);
    expect(openaiSurface.json).toMatchObject({ error: { message: expect.any(String), type: expect.any(String) } });
    expect(openaiSurface.json).toHaveProperty('error.code');
    const triedKeys = new Set(setup.openaiStub.requests.map((request) => request.apiKey));
    expect(triedKeys).toEqual(new Set(['test-upstream-key-0001', 'test-upstream-key-0002']));

    const anthropicSurface = await messages(setup, 'gpt-other');
    expect(anthropicSurface.status).toBe(502);
    expect(anthropicSurface.json).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.any(String) } });
    for (const text of [openaiSurface.text, anthropicSurface.text]) expect(text).not.toMatch(/test-upstream-key/);
  });

  it('answers 502 naming the provider, without its key, when the upstream refuses connections', async () => {
    const refusedPort = await getRefusedPort();
    const deadProvider = (model: string) => ({
      type: 'openai' as const,
      base_url: `http://127.0.0.1:${refusedPort}/v1`,
      api_keys: ['test-upstream-key-0301', 'test-upstream-key-0302'],
      models: [{ name: model }],
    });
    // One provider per surface: a refused connection cools the provider's keys down.
    setup = await startStandardSetup({ extraProviders: () => ({ deadend: deadProvider('gpt-dead'), deadend2: deadProvider('gpt-dead2') }) });
    const started = Date.now();
    const openaiSurface = await chat(setup, 'gpt-dead');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(openaiSurface.status).toBe(502);
    expect(openaiSurface.json).toMatchObject({ error: { message: expect.stringContaining('deadend') } });
    expect(openaiSurface.text).not.toContain('test-upstream-key-030');

    const anthropicSurface = await messages(setup, 'gpt-dead2');
    expect(anthropicSurface.status).toBe(502);
    expect(anthropicSurface.json).toMatchObject({ type: 'error', error: { message: expect.stringContaining('deadend2') } });
    expect(anthropicSurface.text).not.toContain('test-upstream-key-030');

    // Both keys are cooling down now: the next request is refused at once, still in the surface's shape.
    const cooling = await chat(setup, 'gpt-dead');
    expect(cooling.status).toBe(503);
    expect(cooling.json).toMatchObject({ error: { message: expect.any(String), type: expect.any(String) } });

    // The other providers are unaffected.
    expect((await chat(setup, 'gpt-test')).status).toBe(200);
  });
});
