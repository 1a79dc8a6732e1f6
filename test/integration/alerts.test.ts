import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webhookSignature } from '../../src/alerts/webhook.js';
import { redisServerAvailable, startRedisServer, type RedisServerHandle } from '../../src/state/__fixtures__/redis-server.js';
import { startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { sampleValue } from '../helpers/exposition.js';
import { requestFrom } from '../helpers/from-address.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Alert rules over real sockets: failed logins from one loopback address (127.0.0.2, .3, … are
 * distinct clients on Linux) get that address, and only it, blocked within a second, in every
 * replica on one real redis-server; the block expires; a spoofed X-Forwarded-For from an untrusted
 * peer cannot aim a block at another address; a notify_admin rule that keeps firing sends ONE
 * signed webhook notification, retried when the receiver fails.
 */

const chatPath = '/v1/chat/completions';
const chatBody = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
const hasRedis = redisServerAvailable();

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A webhook receiver on loopback: records every POST; `failFirst` answers 503 that many times first. */
async function startWebhookStub(failFirst = 0): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  let failures = failFirst;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (failures > 0) {
        failures -= 1;
        response.writeHead(503).end();
      } else response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Polls `check` every 50 ms until it is true or `timeoutMs` passed; returns whether it became true. */
async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('alert rules', () => {
  let stub: StubUpstream;
  let secretDir: string;
  const started: TestGateway[] = [];
  const secret = `test-webhook-secret-${'0123456789abcdef'.repeat(2)}`;

  beforeAll(async () => {
    stub = await startOpenAIStub();
    secretDir = await mkdtemp(join(tmpdir(), 'cliproxy-alerts-'));
    await writeFile(join(secretDir, 'webhook.key'), `${secret}\n`, { mode: 0o600 });
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((gateway) => gateway.stop()));
  });
  afterAll(async () => {
    await stub?.close();
    await rm(secretDir, { recursive: true, force: true });
  });

  async function gatewayWith(extra: Record<string, unknown>): Promise<TestGateway> {
    const gateway = await startTestGateway({
      providers: { oai: { type: 'openai', base_url: stub.baseUrl, api_keys: ['test-upstream-key-alerts'], models: [{ name: 'gpt-test' }] } },
      extra,
    });
    started.push(gateway);
    return gateway;
  }
  const blockRule = (blockDuration = '10m') => ({ name: 'Key guessing', condition: 'auth_failures > 50', duration: '1m', action: 'block_ip', block_duration: blockDuration });
  const guess = (gateway: TestGateway, from: string, headers: Record<string, string> = {}) =>
    requestFrom(from, gateway.url + chatPath, { headers: { authorization: 'Bearer wrong-key', ...headers }, body: chatBody });
  const chat = (gateway: TestGateway, from: string, headers: Record<string, string> = {}) =>
    requestFrom(from, gateway.url + chatPath, { headers: { authorization: `Bearer ${gateway.clientKey}`, ...headers }, body: chatBody });

  it('60 failed logins from one address block it (403) while another address is served, and the block expires', async () => {
    const gateway = await gatewayWith({ alerts: [blockRule('3s')] });
    const statuses: number[] = [];
    for (let index = 0; index < 60; index += 1) statuses.push((await guess(gateway, '127.0.0.2')).status);
    expect(statuses.filter((status) => status === 401).length).toBeGreaterThanOrEqual(51);
    expect(statuses.at(-1)).toBe(403);
    const refused = await chat(gateway, '127.0.0.2');
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('GW_IP_BLOCKED');
    expect((await chat(gateway, '127.0.0.3')).status).toBe(200);
    expect(gateway.logs.some((line) => line.includes('alert rule blocked a client address') && line.includes('"ip":"127.0.0.2"'))).toBe(true);
    const metrics = gateway.gateway.metrics.gateway!.render();
    expect(sampleValue(metrics, 'cliproxy_alerts_fired_total', { rule: 'Key guessing' })).toBe(1);
    expect(sampleValue(metrics, 'cliproxy_blocked_ips')).toBe(1);
    // The block lasts 3 s: the same address is served again afterwards, without a restart.
    expect(await eventually(async () => (await chat(gateway, '127.0.0.2')).status === 200, 15_000)).toBe(true);
    expect(sampleValue(gateway.gateway.metrics.gateway!.render(), 'cliproxy_blocked_ips')).toBe(0);
  });

  it('a spoofed X-Forwarded-For from an untrusted peer blocks the peer, never the address it names', async () => {
    const gateway = await gatewayWith({ alerts: [blockRule()] });
    for (let index = 0; index < 60; index += 1) await guess(gateway, '127.0.0.4', { 'x-forwarded-for': '127.0.0.5' });
    expect((await chat(gateway, '127.0.0.4')).status).toBe(403);
    expect((await chat(gateway, '127.0.0.5')).status).toBe(200);
    expect((await chat(gateway, '127.0.0.5', { 'x-forwarded-for': '127.0.0.4' })).status).toBe(200);
  });

  it('behind a trusted proxy the forwarded client is blocked, not the proxy', async () => {
    const gateway = await gatewayWith({ alerts: [blockRule()], server: { trusted_proxies: ['127.0.0.6/32'] } });
    for (let index = 0; index < 60; index += 1) await guess(gateway, '127.0.0.6', { 'x-forwarded-for': '203.0.113.7' });
    expect((await chat(gateway, '127.0.0.6', { 'x-forwarded-for': '203.0.113.7' })).status).toBe(403);
    expect((await chat(gateway, '127.0.0.6', { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
  });

  it('a firing notify_admin rule sends ONE signed notification, not sixty, retried after a 503', async () => {
    const webhook = await startWebhookStub(1);
    try {
      const gateway = await gatewayWith({
        alerts: [{ name: 'High auth failure rate', condition: 'auth_failures > 20', duration: '1m', action: 'notify_admin', cooldown: '10m' }],
        alerting: { webhook: { url: webhook.url, secret_file: join(secretDir, 'webhook.key'), allow_private_network: true } },
      });
      for (let index = 0; index < 60; index += 1) expect((await guess(gateway, '127.0.0.7')).status).toBe(401);
      // 60 events, 21 to fire: one firing, one kept quiet by the cooldown, then 18 not enough.
      const metrics = gateway.gateway.metrics.gateway!.render();
      expect(sampleValue(metrics, 'cliproxy_alerts_fired_total', { rule: 'High auth failure rate' })).toBe(1);
      expect(sampleValue(metrics, 'cliproxy_alerts_suppressed_total', { rule: 'High auth failure rate' })).toBe(1);
      // The first delivery gets a 503; the retry (1 s later) is the same delivery.
      expect(await eventually(() => webhook.received.length >= 2, 10_000)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(webhook.received).toHaveLength(2);
      const [first, retry] = webhook.received as [Received, Received];
      expect(retry.headers['x-cliproxy-delivery']).toBe(first.headers['x-cliproxy-delivery']);
      const timestamp = String(retry.headers['x-cliproxy-timestamp']);
      expect(retry.headers['x-cliproxy-signature']).toBe(webhookSignature(secret, timestamp, retry.body));
      expect(retry.headers['x-cliproxy-signature']).not.toBe(webhookSignature('another-secret', timestamp, retry.body));
      const payload = JSON.parse(retry.body) as Record<string, unknown>;
      expect(payload).toMatchObject({ event: 'alert-fire', rule: 'High auth failure rate', counter: 'auth_failures', count: 21, window_seconds: 60 });
      expect(retry.body).not.toContain(gateway.clientKey);
      expect(gateway.logs.join('\n')).not.toContain(secret);
      expect(gateway.logs.some((line) => line.includes('alert notification delivered'))).toBe(true);
    } finally {
      await webhook.close();
    }
  });

  it('the webhook is egress-guarded: a name resolving to loopback is refused without allow_private_network', async () => {
    const webhook = await startWebhookStub();
    try {
      const gateway = await gatewayWith({
        alerts: [{ name: 'Any failure', condition: 'auth_failures > 0', duration: '1m', action: 'notify_admin' }],
        alerting: { webhook: { url: webhook.url.replace('127.0.0.1', 'localhost'), secret_file: join(secretDir, 'webhook.key'), max_attempts: 1 } },
      });
      await guess(gateway, '127.0.0.8');
      expect(await eventually(() => sampleValue(gateway.gateway.metrics.gateway!.render(), 'cliproxy_alert_notifications_failed_total') === 1)).toBe(true);
      expect(webhook.received).toHaveLength(0);
      expect(gateway.logs.some((line) => line.includes('alert notification given up') && line.includes('egress refused'))).toBe(true);
    } finally {
      await webhook.close();
    }
  });

  it('refuses to start with a webhook secret file that others can read, naming the file', async () => {
    const loose = join(secretDir, 'loose.key');
    await writeFile(loose, `${secret}\n`, { mode: 0o644 });
    await expect(
      gatewayWith({
        alerts: [{ name: 'N', condition: 'auth_failures > 5', duration: '1m', action: 'notify_admin' }],
        alerting: { webhook: { url: 'http://127.0.0.1:9/hook', secret_file: loose, allow_private_network: true } },
      }),
    ).rejects.toThrow(/alerting\.webhook\.secret_file: .*loose\.key mode 0644/);
  });

  describe.skipIf(!hasRedis)('two gateways on one Redis', () => {
    let redis: RedisServerHandle;
    afterEach(async () => {
      await Promise.all(started.splice(0).map((gateway) => gateway.stop()));
      await redis?.stop();
    });

    it('an address blocked by one gateway is refused by the other within a second; other addresses are served by both', async () => {
      redis = await startRedisServer();
      const extra = { alerts: [blockRule()], state: { backend: 'redis', url: redis.url } };
      const first = await gatewayWith(extra);
      const second = await gatewayWith(extra);
      for (let index = 0; index < 60; index += 1) await guess(first, '127.0.0.2');
      expect((await chat(first, '127.0.0.2')).status).toBe(403);
      expect(await eventually(async () => (await chat(second, '127.0.0.2')).status === 403, 1_000)).toBe(true);
      expect((await chat(second, '127.0.0.3')).status).toBe(200);
      expect((await chat(first, '127.0.0.3')).status).toBe(200);
    });
  });
});
