import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { estimateTokens } from '../../src/limits/provider-limiter.js';
import { startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { startTestGateway, type StartTestGatewayOptions, type TestGateway } from '../helpers/gateway.js';
import { get, post, type JsonResponse } from '../helpers/http.js';

/**
 * The network layer over real sockets (issue 11): client IP and trusted proxies, the IP filter's
 * order, the per-IP token bucket and a provider's token budget under concurrency. Every address
 * other than 127.0.0.1 reaches the gateway the only way it can in production: in a forwarding
 * header from a trusted proxy (here the test itself, on loopback).
 */

const chatPath = '/v1/chat/completions';
const chatBody = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };

let stub: StubUpstream;
let running: TestGateway | undefined;

beforeAll(async () => {
  stub = await startOpenAIStub();
});
afterAll(async () => {
  await stub.close();
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function gatewayWith(extra: Record<string, unknown>, options: Partial<StartTestGatewayOptions> = {}): Promise<TestGateway> {
  running = await startTestGateway({
    providers: { oai: { type: 'openai', base_url: stub.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] }, ...options.providers },
    extra,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return running;
}

function chat(gateway: TestGateway, headers: Record<string, string> = {}, body: unknown = chatBody): Promise<JsonResponse> {
  return post(gateway.url + chatPath, body, { authorization: `Bearer ${gateway.clientKey}`, ...headers });
}

const codeOf = (response: JsonResponse) => (response.json as { error?: { code?: string } } | undefined)?.error?.code;
const accessLines = (gateway: TestGateway) => gateway.logs.filter((line) => line.includes('"msg":"request"')).map((line) => JSON.parse(line) as Record<string, unknown>);

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('client IP and trusted proxies', () => {
  it('ignores a spoofed X-Forwarded-For from an untrusted peer and honours the one a trusted proxy appends', async () => {
    const gateway = await gatewayWith({ server: { security: { ip_denylist: ['203.0.113.0/24'] } } });
    // The socket (127.0.0.1) is not a trusted proxy: the header is the client's own claim.
    const spoofed = await chat(gateway, { 'x-forwarded-for': '203.0.113.7' });
    expect(spoofed.status).toBe(200);
    await waitFor(() => accessLines(gateway).length >= 1, 'the access line');
    expect(accessLines(gateway)[0]).toMatchObject({ ip: '127.0.0.1', status: 200 });

    gateway.gateway.reload(gateway.buildConfig({ providers: { oai: { type: 'openai', base_url: stub.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] } }, extra: { server: { trusted_proxies: ['127.0.0.1/32'], security: { ip_denylist: ['203.0.113.0/24'] } } } }));
    const blocked = await chat(gateway, { 'x-forwarded-for': '203.0.113.7' });
    expect(blocked.status).toBe(403);
    expect(blocked.json).toEqual({ error: { message: 'Requests from this address are blocked.', type: 'permission_error', param: null, code: 'GW_IP_BLOCKED' } });
    // The client wrote the denied address on the left; the proxy appended the real peer on the right.
    const smuggled = await chat(gateway, { 'x-forwarded-for': '203.0.113.7, 198.51.100.1' });
    expect(smuggled.status).toBe(200);
    // A mapped IPv4 address in the header is caught by the IPv4 rule.
    const mapped = await chat(gateway, { 'x-forwarded-for': '::ffff:203.0.113.7' });
    expect(mapped.status).toBe(403);
    expect(codeOf(mapped)).toBe('GW_IP_BLOCKED');
    // Refused before the key: no key at all still gets the 403, in the Anthropic route's own shape.
    const anthropicShape = await post(`${gateway.url}/v1/messages`, { model: 'gpt-test', max_tokens: 5, messages: [] }, { forwarded: 'for=203.0.113.9' });
    expect(anthropicShape.status).toBe(403);
    expect(anthropicShape.json).toEqual({ type: 'error', error: { type: 'permission_error', message: 'Requests from this address are blocked.' } });
    // Probes stay open to every address.
    expect((await get(`${gateway.url}/healthz`, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(200);
    expect(gateway.gateway.network.counters.ipBlocked).toBe(3);
    await waitFor(() => accessLines(gateway).length >= 5, 'the access lines');
    expect(accessLines(gateway).map((line) => line['ip'])).toEqual(expect.arrayContaining(['203.0.113.7', '198.51.100.1', '203.0.113.9']));
  });
});

describe('IP filter order: dynamic bans, then the denylist, then the allowlist', () => {
  it('refuses a banned or denied address even when the allowlist names it', async () => {
    const gateway = await gatewayWith({
      server: { trusted_proxies: ['127.0.0.1'], security: { ip_allowlist: { enabled: true, allowed_ips: ['198.51.100.0/24'] }, ip_denylist: ['198.51.100.128/25'] } },
    });
    const from = (address: string) => chat(gateway, { 'x-forwarded-for': address });
    expect((await from('198.51.100.1')).status).toBe(200);
    expect(codeOf(await from('198.51.100.200'))).toBe('GW_IP_BLOCKED');
    const outside = await from('192.0.2.1');
    expect(outside.status).toBe(403);
    expect(codeOf(outside)).toBe('GW_IP_NOT_ALLOWED');
    await gateway.gateway.network.bans.ban('198.51.100.2', 60_000);
    expect(codeOf(await from('198.51.100.2'))).toBe('GW_IP_BLOCKED');
    expect((await from('198.51.100.3')).status).toBe(200);
    expect(gateway.gateway.network.counters).toMatchObject({ ipBlocked: 2, ipNotAllowed: 1 });
  });
});

describe('per-IP token bucket', () => {
  it('30 requests at burst 20: 20 pass, the other 10 get 429 GW_RATE_LIMITED with Retry-After and RateLimit-*', async () => {
    // A frozen clock: the bucket does not refill while a slow machine sends the 30 requests.
    const frozen = Date.now();
    const gateway = await gatewayWith({ server: { security: { rate_limit: { enabled: true, requests_per_second: 1, burst: 20 } } } }, { now: () => frozen });
    const answers = await Promise.all(Array.from({ length: 30 }, () => chat(gateway)));
    const refused = answers.filter((answer) => answer.status === 429);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(20);
    expect(refused).toHaveLength(10);
    for (const answer of refused) {
      expect(codeOf(answer)).toBe('GW_RATE_LIMITED');
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.headers.get('ratelimit-limit')).toBe('20');
      expect(answer.headers.get('ratelimit-remaining')).toBe('0');
      expect(answer.headers.get('ratelimit-reset')).toBe('20');
    }
    // Before the key: a request without one is refused by the bucket, not with 401.
    expect((await post(gateway.url + chatPath, chatBody)).status).toBe(429);
    // Another client (through the trusted proxy) has its own bucket; IPv6 clients share theirs per /64.
    gateway.gateway.reload(gateway.buildConfig({ providers: { oai: { type: 'openai', base_url: stub.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] } }, extra: { server: { trusted_proxies: ['127.0.0.1'], security: { rate_limit: { enabled: true, requests_per_second: 1, burst: 2 } } } } }));
    const sameSlash64 = ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff::3'];
    const statuses = [];
    for (const address of sameSlash64) statuses.push((await chat(gateway, { 'x-forwarded-for': address })).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await chat(gateway, { 'x-forwarded-for': '2001:db8:1:3::1' })).status).toBe(200);
    expect(gateway.gateway.network.counters.ipRateLimited).toBe(12);
    // Switched off, nothing is counted.
    gateway.gateway.reload(gateway.buildConfig({ providers: { oai: { type: 'openai', base_url: stub.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] } }, extra: { server: { security: { rate_limit: { enabled: false, requests_per_second: 1, burst: 1 } } } } }));
    expect((await chat(gateway)).status).toBe(200);
  });
});

describe('provider token budget', () => {
  it('50 concurrent requests: only as many as the budget holds reach the upstream, the rest get 429 at once', async () => {
    const gateway = await gatewayWith({});
    gateway.gateway.reload(
      gateway.buildConfig({
        providers: { oai: { type: 'openai', base_url: stub.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }], rate_limit: { tokens_per_minute: 1_000 } } },
      }),
    );
    const body = { ...chatBody, max_tokens: 400 };
    const estimate = estimateTokens(Buffer.byteLength(JSON.stringify(body)), 400);
    const fits = Math.floor(1_000 / estimate);
    expect(fits).toBe(2); // the budget refills ~17 tokens/s: another request would need many seconds
    stub.reset();
    // Admitted requests hang at the upstream, so no reservation is settled while the 50 are decided.
    stub.hangNext({ times: 50 });
    const abort = new AbortController();
    const refusals: JsonResponse[] = [];
    const sent = Array.from({ length: 50 }, () =>
      post(gateway.url + chatPath, body, { authorization: `Bearer ${gateway.clientKey}` }, abort.signal).then(
        (answer) => void refusals.push(answer),
        () => undefined,
      ),
    );
    await waitFor(() => refusals.length + stub.requests.length === 50, 'all 50 requests decided');
    expect(stub.requests).toHaveLength(fits);
    expect(refusals).toHaveLength(50 - fits);
    for (const answer of refusals) {
      expect(answer.status).toBe(429);
      expect(codeOf(answer)).toBe('GW_RATE_LIMITED');
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(answer.headers.get('ratelimit-limit')).toBe('1000');
    }
    expect(gateway.gateway.network.counters.providerRateLimited).toBe(50 - fits);
    abort.abort();
    await Promise.all(sent);
    stub.reset();
  });
});
