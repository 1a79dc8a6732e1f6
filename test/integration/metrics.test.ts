import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { sampleValue, seriesNames } from '../helpers/exposition.js';
import { requestFrom } from '../helpers/from-address.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { get, post } from '../helpers/http.js';
import { generateManagementKey, withManagementKey } from '../helpers/management-key.js';
import { promtoolAvailable, promtoolCheckMetrics } from '../helpers/promtool.js';

/**
 * GET /metrics over real sockets: only a management key opens it (never a client key, wherever it
 * is sent), the counters move with the refusals they count, client-chosen model names and paths
 * create no series and appear nowhere, no secret is in the text, and promtool accepts it.
 */

const upstreamKey = 'test-upstream-key-metrics-0001';
const chatPath = '/v1/chat/completions';
const chatBody = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });
const hasPromtool = promtoolAvailable();

describe('GET /metrics (Prometheus text, management key)', () => {
  let stub: StubUpstream;
  let gateway: TestGateway;
  const managementKey = generateManagementKey();
  const auditorKey = generateManagementKey();
  const asClient = () => ({ authorization: `Bearer ${gateway.clientKey}` });
  const scrape = async () => {
    const answer = await get(`${gateway.url}/metrics`, { authorization: `Bearer ${managementKey}` });
    expect(answer.status).toBe(200);
    return answer.text;
  };

  beforeAll(async () => {
    stub = await startOpenAIStub();
    gateway = await startTestGateway({
      providers: {
        oai: { type: 'openai', base_url: stub.baseUrl, api_keys: [upstreamKey], models: [{ name: 'gpt-test' }] },
        // Lists no models: any `open/<name>` is forwarded, so the model label must not follow it.
        open: { type: 'openai', base_url: stub.baseUrl, api_keys: [upstreamKey], models: [] },
        limited: { type: 'openai', base_url: stub.baseUrl, api_keys: [upstreamKey], models: [{ name: 'gpt-limited' }], rate_limit: { requests_per_minute: 1 } },
      },
      extra: { server: { security: { ip_denylist: ['127.0.0.9'] } }, metrics: { listener: { enabled: true, port: 0 } } },
      // The least privileged role opens /metrics too: a scrape needs no admin key.
      prepareLoaded: (loaded) => withManagementKey(withManagementKey(loaded, managementKey), auditorKey, 'test-auditor', 'auditor'),
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await stub?.close();
  });

  it('answers a management key (Bearer or X-Management-Key) and refuses everything else with 401', async () => {
    const url = `${gateway.url}/metrics`;
    expect((await get(url)).status).toBe(401);
    expect((await get(url, asClient())).status).toBe(401);
    expect((await get(url, { 'x-api-key': gateway.clientKey })).status).toBe(401);
    expect((await get(url, { 'x-management-key': gateway.clientKey })).status).toBe(401);
    expect((await get(url, { authorization: `Bearer ${managementKey}x` })).status).toBe(401);
    const viaHeader = await get(url, { 'x-management-key': managementKey });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(viaHeader.text).toContain('# TYPE cliproxy_auth_failures_total counter');
    expect((await get(url, { authorization: `Bearer ${auditorKey}` })).status).toBe(200);
    // Only GET (and HEAD): any other method is an unknown management path.
    expect((await post(url, {}, { authorization: `Bearer ${managementKey}` })).status).toBe(404);
  });

  it('counts auth failures by reason, rate-limit violations, blocked and suspicious requests, latency and tokens', async () => {
    const before = await scrape();
    for (let index = 0; index < 3; index += 1) expect((await post(gateway.url + chatPath, chatBody('gpt-test'), { authorization: 'Bearer not-a-key' })).status).toBe(401);
    for (let index = 0; index < 2; index += 1) expect((await post(gateway.url + chatPath, chatBody('gpt-test'))).status).toBe(401);
    expect((await get(`${gateway.url}/v0/management/keys`, asClient())).status).toBe(401); // a client key at management
    expect((await post(gateway.url + chatPath, chatBody('gpt-test'), asClient())).status).toBe(200);
    expect((await post(gateway.url + chatPath, chatBody('gpt-limited'), asClient())).status).toBe(200);
    expect((await post(gateway.url + chatPath, chatBody('gpt-limited'), asClient())).status).toBe(429);
    expect((await requestFrom('127.0.0.9', gateway.url + chatPath, { headers: asClient(), body: chatBody('gpt-test') })).status).toBe(403);
    expect((await post(gateway.url + chatPath, '{"model":"gpt-test","model":"x","messages":[]}', asClient())).status).toBe(400);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sampleValue(after, name, labels) - sampleValue(before, name, labels);

    expect(delta('cliproxy_auth_failures_total', { scope: 'client', reason: 'invalid_key' })).toBe(3);
    expect(delta('cliproxy_auth_failures_total', { scope: 'client', reason: 'missing_key' })).toBe(2);
    expect(delta('cliproxy_auth_failures_total', { scope: 'management', reason: 'invalid_key' })).toBe(1);
    expect(delta('cliproxy_rate_limit_violations_total', { scope: 'provider' })).toBe(1);
    expect(delta('cliproxy_blocked_requests_total', { reason: 'blocked' })).toBe(1);
    expect(delta('cliproxy_suspicious_activity_total', { kind: 'malformed_json' })).toBe(1);
    expect(delta('cliproxy_request_duration_seconds_count', { surface: 'openai-chat', provider: 'oai' })).toBe(1);
    expect(delta('cliproxy_requests_total', { surface: 'openai-chat', provider: 'oai', status_class: '2xx' })).toBe(1);
    expect(delta('cliproxy_tokens_total', { provider: 'oai', model: 'gpt-test', kind: 'input' })).toBeGreaterThan(0);
    expect(delta('cliproxy_tokens_total', { provider: 'oai', model: 'gpt-test', kind: 'output' })).toBeGreaterThan(0);
    expect(sampleValue(after, 'cliproxy_credentials', { provider: 'oai', state: 'available' })).toBe(1);
    expect(sampleValue(after, 'cliproxy_blocked_ips')).toBe(0);
    expect(sampleValue(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('hostile model names and paths create no series and never appear in the text; no secret does either', async () => {
    const hostile = (index: number) => `evil"} 1\n# HELP x\\${index}-${'A'.repeat(200)}`;
    // The first one may create the provider's `other` series; after it, nothing new may appear.
    await post(gateway.url + chatPath, chatBody(`open/${hostile(0)}`), asClient());
    await get(`${gateway.url}/v1/probe-0`, asClient());
    const before = seriesNames(await scrape());
    for (let index = 1; index <= 25; index += 1) {
      expect((await post(gateway.url + chatPath, chatBody(`open/${hostile(index)}`), asClient())).status).toBe(200);
      expect((await get(`${gateway.url}/v1/probe-${index}%22%7D`, asClient())).status).toBe(404);
    }
    const text = await scrape();
    const added = [...seriesNames(text)].filter((series) => !before.has(series));
    expect(added).toEqual([]);
    expect(sampleValue(text, 'cliproxy_tokens_total', { provider: 'open', model: 'other', kind: 'input' })).toBeGreaterThan(0);
    expect(sampleValue(text, 'cliproxy_suspicious_activity_total', { kind: 'unknown_route' })).toBeGreaterThanOrEqual(26);
    for (const forbidden of ['evil', 'probe-', 'AAAAAAAA', gateway.clientKey, managementKey, upstreamKey, 'test-ops']) {
      expect(text).not.toContain(forbidden);
    }
    // Client key ids are labels of the per-key counters (issue 14), and appear nowhere else.
    expect(text.split('\n').filter((line) => line.includes('test-client')).every((line) => line.includes('key="test-client"') && line.startsWith('cliproxy_key_'))).toBe(true);
  });

  it.skipIf(!hasPromtool)('promtool check metrics accepts the exposition of both listeners', async () => {
    const main = await scrape();
    const checked = promtoolCheckMetrics(main);
    expect(checked.output).toBe('');
    expect(checked.status).toBe(0);
    const listenerUrl = gateway.gateway.metrics.listenerUrl;
    expect(listenerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const viaListener = await get(listenerUrl!);
    expect(viaListener.status).toBe(200);
    expect(promtoolCheckMetrics(viaListener.text)).toEqual({ status: 0, output: '' });
  });

  it('promtool itself refuses a broken exposition (the check can fail)', () => {
    if (!hasPromtool) return;
    const broken = promtoolCheckMetrics('# TYPE cliproxy_x counter\ncliproxy_x{a="b} 1\n');
    expect(broken.status).not.toBe(0);
  });

  it('the loopback listener serves /metrics without a key and nothing else', async () => {
    const listenerUrl = gateway.gateway.metrics.listenerUrl!;
    const base = listenerUrl.replace(/\/metrics$/, '');
    expect((await get(listenerUrl)).text).toContain('cliproxy_requests_total');
    expect((await get(`${base}/v1/models`, asClient())).status).toBe(404);
    expect((await get(`${base}/v0/management/config`)).status).toBe(404);
    expect((await post(listenerUrl, {})).status).toBe(404);
  });
});

describe('metrics.enabled: false', () => {
  it('GET /metrics answers 404 even with a management key', async () => {
    const managementKey = generateManagementKey();
    const gateway = await startTestGateway({
      providers: {},
      extra: { metrics: { enabled: false } },
      prepareLoaded: (loaded) => withManagementKey(loaded, managementKey),
    });
    try {
      expect((await get(`${gateway.url}/metrics`, { authorization: `Bearer ${managementKey}` })).status).toBe(404);
      expect((await get(`${gateway.url}/metrics`)).status).toBe(401);
      expect(gateway.gateway.metrics.gateway).toBeUndefined();
    } finally {
      await gateway.stop();
    }
  });
});
