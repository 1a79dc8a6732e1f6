import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { getRefusedPort } from '../fixtures/stub-upstreams/index.js';
import type { TestProviderConfig } from '../helpers/gateway.js';
import { get, parseSseText, post, sendLargeBody, type JsonResponse } from '../helpers/http.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * Every bad input of issue 2 gets a clear error in the surface's own shape, and nothing breaks.
 * Faults that cool credentials down (hangs, mid-stream failures) each get a provider of their own
 * with a single key, so one test's cooldown cannot turn another's expected error into a 503.
 */
type Side = 'openai' | 'anthropic';
const sides: Side[] = ['openai', 'anthropic'];
const bodyLimitBytes = 65_536;
const maxTokensCap = 4_096;

/** A single-key provider dedicated to one fault scenario; its model is `<name>-model`. */
function faultProvider(name: string, type: Side, stub: StubUpstream): Record<string, TestProviderConfig> {
  return { [name]: { type, base_url: stub.baseUrl, api_keys: [`test-upstream-key-${name}`], models: [{ name: `${name}-model` }] } };
}

const midStreamFaults = ['error-event', 'drop', 'stall'] as const;
let refusedPort = 0;
let setup: StandardSetup;

beforeAll(async () => {
  refusedPort = await getRefusedPort();
  setup = await startStandardSetup({
    extra: {
      server: { body_limit_bytes: bodyLimitBytes, validation: { max_tokens: maxTokensCap } },
      upstream: { connect_timeout_ms: 1_000, first_byte_timeout_ms: 600, idle_timeout_ms: 600, max_attempts: 2 },
    },
    extraProviders: ({ openaiStub, anthropicStub }) => {
      const providers: Record<string, TestProviderConfig> = {
        // One unreachable provider per surface: a refused connection cools its key down.
        'unreachable-openai': { type: 'anthropic', base_url: `http://127.0.0.1:${refusedPort}`, api_keys: ['test-upstream-key-unreachable-1'], models: [{ name: 'claude-unreachable-openai' }] },
        'unreachable-anthropic': { type: 'anthropic', base_url: `http://127.0.0.1:${refusedPort}`, api_keys: ['test-upstream-key-unreachable-2'], models: [{ name: 'claude-unreachable-anthropic' }] },
      };
      for (const upstream of sides) {
        const stub = upstream === 'openai' ? openaiStub : anthropicStub;
        for (const surface of sides) {
          Object.assign(providers, faultProvider(`hang-${upstream}-${surface}`, upstream, stub));
          for (const fault of midStreamFaults) Object.assign(providers, faultProvider(`${fault}-${upstream}-${surface}`, upstream, stub));
        }
      }
      return providers;
    },
  });
});
afterAll(() => setup.stop());

function surfacePath(side: Side): string {
  return side === 'openai' ? '/v1/chat/completions' : '/v1/messages';
}

function authHeaders(side: Side, key = setup.testGateway.clientKey): Record<string, string> {
  return side === 'openai' ? { authorization: `Bearer ${key}` } : { 'x-api-key': key, 'anthropic-version': '2023-06-01' };
}

function requestBody(side: Side, model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base = { model, messages: [{ role: 'user', content: 'hi' }], ...extra };
  return side === 'anthropic' && !('max_tokens' in extra) ? { max_tokens: 64, ...base } : base;
}

function send(side: Side, body: unknown, headers: Record<string, string> = authHeaders(side)): Promise<JsonResponse> {
  return post(`${setup.testGateway.url}${surfacePath(side)}`, body, headers);
}

/** Asserts the error shape of the surface and returns its message. */
function expectErrorShape(side: Side, response: JsonResponse, status: number): string {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type') ?? '').toContain('application/json');
  if (side === 'openai') {
    expect(response.json).toMatchObject({ error: { message: expect.any(String), type: expect.any(String) } });
    expect(response.json).toHaveProperty('error.code');
    return (response.json as { error: { message: string } }).error.message;
  }
  expect(response.json).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.any(String) } });
  return (response.json as { error: { message: string } }).error.message;
}

describe.each(sides)('%s surface', (side) => {
  it('answers malformed JSON with 400', async () => {
    const response = await send(side, '{"model": "gpt-test", "messages": [');
    expectErrorShape(side, response, 400);
    expect(response.text).toMatch(/invalid_request_error/);
  });

  it('answers a body that breaks the schema with 400', async () => {
    expectErrorShape(side, await send(side, { model: 'gpt-test', messages: 'not a list' }), 400);
  });

  it('answers a non-JSON content type with 415', async () => {
    const response = await send(side, JSON.stringify(requestBody(side, 'gpt-test')), { ...authHeaders(side), 'content-type': 'text/plain' });
    expectErrorShape(side, response, 415);
  });

  it('answers a missing or wrong key with 401 that names no key', async () => {
    const noKey = await send(side, requestBody(side, 'gpt-test'), side === 'anthropic' ? { 'anthropic-version': '2023-06-01' } : {});
    const wrongKey = await send(side, requestBody(side, 'gpt-test'), authHeaders(side, `${setup.testGateway.clientKey.slice(0, -4)}0000`));
    for (const response of [noKey, wrongKey]) {
      expectErrorShape(side, response, 401);
      expect(response.text).not.toContain(setup.testGateway.clientKeyId);
      expect(response.text).not.toContain(setup.testGateway.clientKey.slice(0, 16));
      expect(response.text).not.toMatch(/test-upstream-key/);
    }
    expect(noKey.json).toEqual(wrongKey.json);
  });

  it('answers an unknown model with 404 naming the model', async () => {
    const message = expectErrorShape(side, await send(side, requestBody(side, 'no-such-model-xyz')), 404);
    expect(message).toContain('no-such-model-xyz');
  });

  it('answers max_tokens over the cap with 400 without calling the upstream', async () => {
    const before = setup.openaiStub.requests.length + setup.anthropicStub.requests.length;
    const message = expectErrorShape(side, await send(side, requestBody(side, 'gpt-test', { max_tokens: maxTokensCap + 1 })), 400);
    expect(message).toMatch(/max_tokens/);
    expect(setup.openaiStub.requests.length + setup.anthropicStub.requests.length).toBe(before);
  });

  it('answers an oversized body with 413 before reading all of it', async () => {
    const contentLength = 10 * 1024 * 1024;
    const exchange = await sendLargeBody(setup.testGateway.port, surfacePath(side), authHeaders(side), contentLength);
    expect(exchange.responseText).toMatch(/^HTTP\/1\.1 413 /);
    expect(exchange.bodyBytesSent).toBeLessThan(contentLength);
    expect(exchange.elapsedMs).toBeLessThan(3_000);
  });

  it('answers an oversized body without a key with 401, also early', async () => {
    const contentLength = 10 * 1024 * 1024;
    const exchange = await sendLargeBody(setup.testGateway.port, surfacePath(side), {}, contentLength);
    expect(exchange.responseText).toMatch(/^HTTP\/1\.1 401 /);
    expect(exchange.bodyBytesSent).toBeLessThan(contentLength);
  });

  it('answers an unreachable upstream with 502 naming the provider', async () => {
    const message = expectErrorShape(side, await send(side, requestBody(side, `claude-unreachable-${side}`)), 502);
    expect(message).toContain(`unreachable-${side}`);
    expect(message).not.toContain('test-upstream-key');
  });

  describe.each(sides)('→ %s upstream', (upstream) => {
    it('answers an upstream that never answers with 504 naming the provider', async () => {
      const provider = `hang-${upstream}-${side}`;
      const stub = upstream === 'openai' ? setup.openaiStub : setup.anthropicStub;
      stub.hangNext({ whenKey: `test-upstream-key-${provider}`, times: 10 });
      const started = Date.now();
      const message = expectErrorShape(side, await send(side, requestBody(side, `${provider}-model`, { stream: true })), 504);
      expect(message).toContain(provider);
      expect(message).not.toContain('test-upstream-key');
      expect(Date.now() - started).toBeLessThan(4_000);
    });

    it.each(midStreamFaults)('ends the stream with an error event in the surface format after an upstream %s mid-stream', async (fault) => {
      const provider = `${fault}-${upstream}-${side}`;
      const stub = upstream === 'openai' ? setup.openaiStub : setup.anthropicStub;
      const scope = { whenKey: `test-upstream-key-${provider}` };
      const frames = { afterFrames: upstream === 'openai' ? 2 : 4 };
      if (fault === 'error-event') stub.errorEventMidStreamNext(frames, scope);
      else if (fault === 'drop') stub.dropMidStreamNext(frames, scope);
      else stub.stallMidStreamNext(frames, scope);

      const response = await fetch(`${setup.testGateway.url}${surfacePath(side)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeaders(side) },
        body: JSON.stringify(requestBody(side, `${provider}-model`, { stream: true })),
        signal: AbortSignal.timeout(5_000),
      });
      expect(response.status).toBe(200);
      // text() resolving at all shows the gateway closed the stream cleanly instead of hanging.
      const text = await response.text();
      const events = parseSseText(text);
      expect(events.length).toBeGreaterThan(1);
      expect(text).not.toContain('test-upstream-key');
      if (side === 'openai') {
        const errorEvent = events.find((event) => event.data.startsWith('{') && 'error' in (JSON.parse(event.data) as object));
        expect(errorEvent, text).toBeDefined();
        expect(JSON.parse(errorEvent?.data ?? '{}')).toMatchObject({ error: { message: expect.any(String), type: expect.any(String) } });
      } else {
        const errorEvent = events.find((event) => event.event === 'error');
        expect(errorEvent, text).toBeDefined();
        expect(JSON.parse(errorEvent?.data ?? '{}')).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.any(String) } });
        expect(events.at(-1)?.event, 'nothing after the error event').toBe('error');
      }
    });
  });
});

describe('client key carriers', () => {
  it.each([
    ['Authorization: Bearer', (key: string) => ({ path: '/v1/models', headers: { authorization: `Bearer ${key}` } })],
    ['x-api-key', (key: string) => ({ path: '/v1/models', headers: { 'x-api-key': key } })],
    ['x-goog-api-key', (key: string) => ({ path: '/v1/models', headers: { 'x-goog-api-key': key } })],
    ['?key=', (key: string) => ({ path: `/v1/models?key=${encodeURIComponent(key)}`, headers: {} })],
  ])('accepts the client key from %s', async (_carrier, build) => {
    const good = build(setup.testGateway.clientKey);
    expect((await get(`${setup.testGateway.url}${good.path}`, good.headers)).status).toBe(200);
    const bad = build(`${setup.testGateway.clientKey}x`);
    expect((await get(`${setup.testGateway.url}${bad.path}`, bad.headers)).status).toBe(401);
  });
});
