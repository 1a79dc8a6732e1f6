import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/management/totp.js';
import { base32Decode } from '../../src/management/totp.js';
import { startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { startTestGateway, type StartTestGatewayOptions, type TestGateway } from '../helpers/gateway.js';
import { agentFrom, callManagement, closeAgents, generateManagementKeys, recordingEvents, type ManagementAnswer } from '../helpers/management.js';
import { createTestCertificateAuthority, createTestLeafCertificate } from '../helpers/tls-certificates.js';

/**
 * The management API's door over real sockets: the loopback rule and `allow_remote` with TLS, the
 * lockout per client IP (missing keys do not count, a spoofed X-Forwarded-For neither dodges it nor
 * moves it, it expires), a client key never opening the scope, and TOTP on destructive actions
 * (wrong, replayed and skewed codes). The gateway's clock is the test's, so lockout ends and TOTP
 * steps are exact without sleeping.
 */
const management = generateManagementKeys();
const { admin, operator, auditor } = management.keys;
let stub: StubUpstream;
let running: TestGateway | undefined;
let clock = Date.UTC(2026, 11, 3, 12, 0, 0);

beforeAll(async () => {
  stub = await startOpenAIStub();
});
afterAll(async () => {
  await stub.close();
  await closeAgents();
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function gatewayWith(extra: Record<string, unknown>, options: Partial<StartTestGatewayOptions> = {}): Promise<TestGateway> {
  running = await startTestGateway({
    providers: { oai: { type: 'openai', base_url: stub.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] } },
    now: () => clock,
    ...options,
    extra,
  });
  return running;
}

const codeOf = (answer: ManagementAnswer) => answer.json.error?.code;

describe('who may open the management scope', () => {
  it('a client key never opens it, in either header', async () => {
    const gateway = await gatewayWith({ management: management.config() });
    const placements: Record<string, string>[] = [{ authorization: `Bearer ${gateway.clientKey}` }, { 'x-management-key': gateway.clientKey }];
    for (const headers of placements) {
      const answer = await callManagement(gateway.url, 'GET', '/v0/management/whoami', { headers });
      expect(answer.status).toBe(401);
      expect(codeOf(answer)).toBe('GW_UNAUTHORIZED');
    }
    const allowed = await callManagement(gateway.url, 'GET', '/v0/management/whoami', { headers: { 'x-management-key': auditor } });
    expect(allowed.status).toBe(200);
    expect(allowed.json).toMatchObject({ id: 'auditor-key', role: 'auditor', totp_enrolled: false });
  });

  it('refuses a remote client by default, before the key is read, and serves it with allow_remote over TLS', async () => {
    // The test is a trusted proxy on loopback: the forwarded address is the client, as in production.
    const plain = await gatewayWith({ server: { trusted_proxies: ['127.0.0.1'] }, management: management.config() });
    const remote = await callManagement(plain.url, 'GET', '/v0/management/whoami', { key: admin, headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(remote.status).toBe(403);
    expect(codeOf(remote)).toBe('GW_MANAGEMENT_REMOTE_REFUSED');
    const withoutKey = await callManagement(plain.url, 'GET', '/v0/management/whoami', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(codeOf(withoutKey), 'the loopback rule comes before the key').toBe('GW_MANAGEMENT_REMOTE_REFUSED');
    expect((await callManagement(plain.url, 'GET', '/v0/management/whoami', { key: admin })).status).toBe(200);
    await plain.stop();

    const directory = await mkdtemp(join(tmpdir(), 'cliproxy-mgmt-tls-'));
    try {
      const authority = await createTestCertificateAuthority(directory);
      const leaf = await createTestLeafCertificate(authority, 'server');
      const tls = await gatewayWith({
        server: { trusted_proxies: ['127.0.0.1'], tls: { enabled: true, cert_file: leaf.certFile, key_file: leaf.keyFile } },
        management: management.config({ allow_remote: true }),
      });
      expect(tls.url.startsWith('https://')).toBe(true);
      const dispatcher = new Agent({ connect: { ca: authority.caCert } });
      try {
        const served = await callManagement(tls.url, 'GET', '/v0/management/whoami', { key: admin, headers: { 'x-forwarded-for': '203.0.113.9' }, dispatcher });
        expect(served.status).toBe(200);
      } finally {
        await dispatcher.close();
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('refuses allow_remote without TLS at start (config error)', async () => {
    await expect(gatewayWith({ management: management.config({ allow_remote: true }) })).rejects.toThrow(/management\.allow_remote: requires server\.tls\.enabled/);
  });
});

describe('lockout of management logins', () => {
  const lockout = { max_failures: 3, window_seconds: 600, duration_seconds: 60 };

  it('does not count requests without a key', async () => {
    const gateway = await gatewayWith({ management: management.config({ lockout }) });
    for (let attempt = 0; attempt < 10; attempt += 1) {
      expect((await callManagement(gateway.url, 'GET', '/v0/management/whoami')).status).toBe(401);
      expect((await callManagement(gateway.url, 'GET', '/v0/management/whoami', { headers: { authorization: 'Basic eDp5' } })).status).toBe(401);
    }
    expect((await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: admin })).status).toBe(200);
  });

  it('locks out the peer after wrong keys, even with the right key, and the lockout expires', async () => {
    const gateway = await gatewayWith({ management: management.config({ lockout }) });
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      expect(codeOf(await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: `wrong-${attempt}` }))).toBe('GW_UNAUTHORIZED');
    }
    const third = await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: 'wrong-3' });
    expect(third.status).toBe(429);
    expect(codeOf(third)).toBe('GW_MANAGEMENT_LOCKED_OUT');
    expect(third.headers['retry-after']).toBe('60');
    const right = await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: admin });
    expect(codeOf(right), 'the right key is refused too while locked out').toBe('GW_MANAGEMENT_LOCKED_OUT');
    clock += 61_000;
    expect((await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: admin })).status).toBe(200);
  });

  it('a valid key between guesses does not reset the count', async () => {
    const gateway = await gatewayWith({ management: management.config({ lockout }) });
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: `wrong-${attempt}` });
      expect((await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: auditor })).status).toBe(200);
    }
    expect(codeOf(await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: 'wrong-3' }))).toBe('GW_MANAGEMENT_LOCKED_OUT');
  });

  it('a spoofed X-Forwarded-For from an untrusted peer neither dodges the lockout nor moves it to the named address', async () => {
    // 127.0.0.2 is the trusted proxy; 127.0.0.3 an untrusted peer claiming to be 127.0.0.4, a real other peer.
    const gateway = await gatewayWith({ server: { trusted_proxies: ['127.0.0.2'] }, management: management.config({ lockout }) });
    const attacker = agentFrom('127.0.0.3');
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: `wrong-${attempt}`, headers: { 'x-forwarded-for': `127.0.0.${attempt + 3}` }, dispatcher: attacker });
    }
    const attackerNow = await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: admin, headers: { 'x-forwarded-for': '127.0.0.9' }, dispatcher: attacker });
    expect(codeOf(attackerNow), 'the peer itself is locked out, whatever it claims').toBe('GW_MANAGEMENT_LOCKED_OUT');
    const victim = await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: admin, dispatcher: agentFrom('127.0.0.4') });
    expect(victim.status, 'the address named in the spoofed header is not locked out').toBe(200);
    // Through the trusted proxy the forwarded client is the subject: another forwarded client is served.
    const proxy = agentFrom('127.0.0.2');
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: `wrong-${attempt}`, headers: { 'x-forwarded-for': '127.0.0.5' }, dispatcher: proxy });
    }
    expect(codeOf(await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: admin, headers: { 'x-forwarded-for': '127.0.0.5' }, dispatcher: proxy }))).toBe('GW_MANAGEMENT_LOCKED_OUT');
    expect((await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: admin, headers: { 'x-forwarded-for': '127.0.0.6' }, dispatcher: proxy })).status).toBe(200);
  });
});

describe('TOTP on destructive actions', () => {
  async function enroll(gateway: TestGateway): Promise<Buffer> {
    const started = await callManagement(gateway.url, 'POST', '/v0/management/totp/enroll', { key: admin });
    expect(started.status).toBe(201);
    const secret = base32Decode(String(started.json['secret']));
    expect(String(started.json['otpauth_uri'])).toMatch(/^otpauth:\/\/totp\/cliproxyapi%3Aadmin-key\?secret=[A-Z2-7]+&issuer=cliproxyapi/);
    const wrong = await callManagement(gateway.url, 'POST', '/v0/management/totp/confirm', { key: admin, body: { code: totpCode(secret, clock + 120_000) } });
    expect(codeOf(wrong)).toBe('GW_TOTP_INVALID');
    const confirmed = await callManagement(gateway.url, 'POST', '/v0/management/totp/confirm', { key: admin, body: { code: totpCode(secret, clock) } });
    expect(confirmed.status).toBe(200);
    return secret;
  }

  it('once enrolled, a destructive action needs a fresh code: missing, wrong, skewed and replayed codes are refused', async () => {
    const events = recordingEvents();
    const gateway = await gatewayWith({ management: management.config({ lockout: { max_failures: 50, window_seconds: 600, duration_seconds: 60 } }) }, { securityEvents: events });
    const secret = await enroll(gateway);
    expect((await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: admin })).json).toMatchObject({ totp_enrolled: true });
    const create = (headers: Record<string, string>, id: string) => callManagement(gateway.url, 'POST', '/v0/management/api-keys', { key: admin, headers, body: { id } });

    expect(codeOf(await create({}, 'k1'))).toBe('GW_TOTP_REQUIRED');
    expect(codeOf(await create({ 'x-management-totp': '000000' === totpCode(secret, clock) ? '111111' : '000000' }, 'k1'))).toBe('GW_TOTP_INVALID');
    expect(codeOf(await create({ 'x-management-totp': totpCode(secret, clock - 60_000) }, 'k1')), 'two steps behind').toBe('GW_TOTP_INVALID');
    expect(codeOf(await create({ 'x-management-totp': totpCode(secret, clock + 60_000) }, 'k1')), 'two steps ahead').toBe('GW_TOTP_INVALID');
    // The confirmation spent the current step: the next step's code (within the ±1 skew) is accepted once.
    const ahead = totpCode(secret, clock + 30_000);
    expect((await create({ 'x-management-totp': ahead }, 'k1')).status).toBe(201);
    expect(codeOf(await create({ 'x-management-totp': ahead }, 'k2')), 'replayed').toBe('GW_TOTP_INVALID');
    expect(codeOf(await create({ 'x-management-totp': totpCode(secret, clock) }, 'k2')), 'an older step after a newer one').toBe('GW_TOTP_INVALID');
    clock += 60_000;
    expect((await create({ 'x-management-totp': totpCode(secret, clock) }, 'k2')).status).toBe(201);
    // Reads need no code; an operator (no TOTP) is not asked for one.
    expect((await callManagement(gateway.url, 'GET', '/v0/management/api-keys', { key: admin })).status).toBe(200);
    expect((await callManagement(gateway.url, 'POST', '/v0/management/providers/oai/disable', { key: operator })).status).toBe(200);

    const refused = events.events.filter((event) => event.event_type === 'management-login' && event.result === 'failure');
    expect(refused.length, 'each refused code is recorded').toBeGreaterThanOrEqual(6);
    const everything = JSON.stringify(events.events) + gateway.logs.join('\n');
    for (const secretText of [admin, operator, ahead, String(secret.toString('hex'))]) expect(everything).not.toContain(secretText);
  });

  it('wrong TOTP codes count for the lockout', async () => {
    const gateway = await gatewayWith({ management: management.config({ lockout: { max_failures: 4, window_seconds: 600, duration_seconds: 60 } }) });
    const secret = await enroll(gateway); // one wrong confirmation already counted
    const wrong = totpCode(secret, clock + 300_000);
    expect(codeOf(await callManagement(gateway.url, 'DELETE', '/v0/management/api-keys/nobody', { key: admin, headers: { 'x-management-totp': wrong } }))).toBe('GW_TOTP_INVALID');
    expect(codeOf(await callManagement(gateway.url, 'DELETE', '/v0/management/api-keys/nobody', { key: admin, headers: { 'x-management-totp': wrong } }))).toBe('GW_TOTP_INVALID');
    const locked = await callManagement(gateway.url, 'DELETE', '/v0/management/api-keys/nobody', { key: admin, headers: { 'x-management-totp': wrong } });
    expect(codeOf(locked)).toBe('GW_MANAGEMENT_LOCKED_OUT');
    expect(codeOf(await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: admin }))).toBe('GW_MANAGEMENT_LOCKED_OUT');
  });
});
