import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthRecord, canaryAccessToken, canaryRefreshToken } from '../../src/credentials/__fixtures__/test-support.js';
import { decryptExport } from '../../src/credentials/export-encryption.js';
import { EncryptedFileStore } from '../../src/credentials/file-store.js';
import { readKeyFile } from '../../src/credentials/keyring.js';
import { managementEndpoints } from '../../src/server/routes/management.js';
import { startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { startTestGateway, testClientKeyId, type TestGateway } from '../helpers/gateway.js';
import { post } from '../helpers/http.js';
import { callManagement, generateManagementKeys, recordingEvents, type ManagementAnswer, type TestRole } from '../helpers/management.js';

/**
 * The management API's endpoints over a real socket: every role allowed and denied per endpoint,
 * strict inputs (400 naming the field), and what each action does to the running gateway (a block
 * the IP filter enforces, a disabled provider the router refuses, a client key that works at once
 * and stops working when revoked, credentials listed, exported encrypted and deleted through the
 * CLI's service). Every call is recorded; no key, token or hash appears in answers, events or logs.
 */
const management = generateManagementKeys();
const { admin, operator, auditor } = management.keys;
const upstreamKey = 'test-upstream-key-0001';
let stub: StubUpstream;
let gateway: TestGateway;
const events = recordingEvents();

beforeAll(async () => {
  stub = await startOpenAIStub();
  gateway = await startTestGateway({
    providers: { oai: { type: 'openai', base_url: stub.baseUrl, api_keys: [upstreamKey], models: [{ name: 'gpt-test' }] } },
    // The test is the trusted proxy that forwards other clients' addresses (for the IP block check).
    extra: { server: { trusted_proxies: ['127.0.0.1'] }, management: management.config({ lockout: { max_failures: 1000, window_seconds: 60, duration_seconds: 60 } }) },
    securityEvents: events,
  });
  // One stored OAuth credential, written with the gateway's own keyring as `creds import` would.
  const store = new EncryptedFileStore({ dir: join(gateway.baseDir, 'data', 'auths'), keyring: await readKeyFile(join(gateway.baseDir, 'data', 'encryption.key')) });
  await store.write(oauthRecord('cred-1', { provider: 'oai' }));
  await store.write(oauthRecord('cred-2', { provider: 'oai' }));
});
afterAll(async () => {
  await gateway.stop();
  await stub.close();
});

const call = (role: TestRole, method: string, path: string, body?: unknown) => callManagement(gateway.url, method, `/v0/management${path}`, { key: management.keys[role], ...(body === undefined ? {} : { body }) });
const codeOf = (answer: ManagementAnswer) => answer.json.error?.code;
const roles: TestRole[] = ['auditor', 'operator', 'admin'];
const rank: Record<TestRole, number> = { auditor: 0, operator: 1, admin: 2 };

/** The role table of docs/operations.md, one row per endpoint, with a harmless request for each. */
const matrix: { method: string; url: string; role: TestRole; path: (role: TestRole) => string; body?: (role: TestRole) => unknown }[] = [
  { method: 'GET', url: '/whoami', role: 'auditor', path: () => '/whoami' },
  { method: 'GET', url: '/ip-blocks', role: 'auditor', path: () => '/ip-blocks' },
  { method: 'POST', url: '/ip-blocks', role: 'operator', path: () => '/ip-blocks', body: (role) => ({ ip: `198.51.100.${rank[role] + 10}`, ttl_seconds: 60 }) },
  { method: 'DELETE', url: '/ip-blocks/:ip', role: 'operator', path: (role) => `/ip-blocks/198.51.100.${rank[role] + 10}` },
  { method: 'GET', url: '/providers', role: 'auditor', path: () => '/providers' },
  { method: 'POST', url: '/providers/:name/disable', role: 'operator', path: () => '/providers/oai/disable' },
  { method: 'POST', url: '/providers/:name/enable', role: 'operator', path: () => '/providers/oai/enable' },
  { method: 'GET', url: '/audit', role: 'auditor', path: () => '/audit?limit=5' },
  { method: 'GET', url: '/config', role: 'auditor', path: () => '/config' },
  { method: 'POST', url: '/config/reload', role: 'operator', path: () => '/config/reload' },
  { method: 'GET', url: '/security/summary', role: 'auditor', path: () => '/security/summary' },
  { method: 'GET', url: '/credentials', role: 'auditor', path: () => '/credentials' },
  { method: 'POST', url: '/credentials/export', role: 'admin', path: () => '/credentials/export', body: () => ({ id: 'no-such-credential', passphrase: 'test passphrase long enough' }) },
  { method: 'DELETE', url: '/credentials/:id', role: 'admin', path: () => '/credentials/no-such-credential' },
  { method: 'GET', url: '/api-keys', role: 'auditor', path: () => '/api-keys' },
  { method: 'GET', url: '/usage', role: 'auditor', path: () => '/usage?since=1h&by=provider' },
  { method: 'POST', url: '/api-keys', role: 'admin', path: () => '/api-keys', body: (role) => ({ id: `matrix-${role}` }) },
  { method: 'PATCH', url: '/api-keys/:id', role: 'admin', path: (role) => `/api-keys/matrix-${role}`, body: () => ({ metadata: { team: 'matrix' } }) },
  { method: 'DELETE', url: '/api-keys/:id', role: 'admin', path: (role) => `/api-keys/matrix-${role}` },
  { method: 'POST', url: '/totp/enroll', role: 'admin', path: () => '/totp/enroll' },
  { method: 'POST', url: '/totp/confirm', role: 'admin', path: () => '/totp/confirm', body: () => ({ code: '123456' }) },
  // No provider here logs in with Claude: 409 for an admin (management-logins.test.ts runs real logins).
  { method: 'POST', url: '/logins', role: 'admin', path: () => '/logins', body: () => ({ kind: 'claude' }) },
  { method: 'GET', url: '/logins/:login_id', role: 'admin', path: () => '/logins/AAAAAAAAAAAAAAAAAAAAAA' },
  { method: 'POST', url: '/logins/:login_id/callback', role: 'admin', path: () => '/logins/AAAAAAAAAAAAAAAAAAAAAA/callback', body: () => ({ callback_url: 'http://localhost:1/callback?code=x&state=y' }) },
  { method: 'DELETE', url: '/logins/:login_id', role: 'admin', path: () => '/logins/AAAAAAAAAAAAAAAAAAAAAA' },
];

describe('roles', () => {
  it('the test table covers every endpoint the API registers, with the same role', () => {
    expect(matrix.map((row) => `${row.method} ${row.url} ${row.role}`).sort()).toEqual(managementEndpoints.map((row) => `${row.method} ${row.url} ${row.role}`).sort());
  });

  it.each(matrix.map((row) => [`${row.method} ${row.url}`, row] as const))('%s: allowed from its role up, 403 below', async (_name, row) => {
    for (const role of roles) {
      const answer = await call(role, row.method, row.path(role), row.body?.(role));
      if (rank[role] >= rank[row.role]) {
        expect(answer.status, `${role} must be allowed: ${answer.text}`).not.toBe(403);
        expect([200, 201, 404, 409, 401]).toContain(answer.status);
        if (answer.status === 401) expect(codeOf(answer), 'only a TOTP refusal, never the key').toBe('GW_TOTP_INVALID');
      } else {
        expect(answer.status, `${role} must be refused`).toBe(403);
        expect(codeOf(answer)).toBe('GW_MANAGEMENT_FORBIDDEN');
      }
    }
  });
});

describe('strict input', () => {
  it.each([
    [{ ip: '198.51.100.1', ttl_seconds: 'soon' }, 'ttl_seconds'],
    [{ ip: '198.51.100.1', ttl_seconds: 0 }, 'ttl_seconds'],
    [{ ip: '198.51.100.1', ttl_seconds: 60, note: 'x' }, 'note'],
    [{ ttl_seconds: 60 }, 'ip'],
    [{ ip: '198.51.100.0/24', ttl_seconds: 60 }, 'ip'],
    [{ ip: '198.51.100.1:80', ttl_seconds: 60 }, 'ip'],
  ])('POST /ip-blocks %j is 400 naming %s', async (body, field) => {
    const answer = await call('operator', 'POST', '/ip-blocks', body);
    expect(answer.status).toBe(400);
    expect(codeOf(answer)).toBe('GW_INVALID_REQUEST');
    expect(answer.json.error?.message).toContain(field);
  });

  it('a body where none is taken, broken JSON and a bad path parameter are 400', async () => {
    expect(codeOf(await call('operator', 'POST', '/providers/oai/enable', { extra: true }))).toBe('GW_INVALID_REQUEST');
    const broken = await callManagement(gateway.url, 'POST', '/v0/management/ip-blocks', { key: operator, body: '{"ip":' });
    expect(codeOf(broken)).toBe('GW_INVALID_JSON');
    const badName = await call('operator', 'POST', '/providers/Not..A..Name/disable');
    expect(badName.status).toBe(400);
    expect(badName.json.error?.message).toContain('name');
  });
});

describe('what the endpoints do', () => {
  const chat = (headers: Record<string, string> = {}) => post(`${gateway.url}/v1/chat/completions`, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${gateway.clientKey}`, ...headers });

  it('a block is enforced by the IP filter at once, listed, and lifted', async () => {
    const forwarded = { 'x-forwarded-for': '198.51.100.77' };
    expect((await chat(forwarded)).status).toBe(200);
    expect((await call('operator', 'POST', '/ip-blocks', { ip: '::ffff:198.51.100.77', ttl_seconds: 300 })).json).toMatchObject({ ip: '198.51.100.77', expires_in_seconds: 300 });
    const refused = await chat(forwarded);
    expect(refused.status).toBe(403);
    expect((refused.json as { error: { code: string } }).error.code).toBe('GW_IP_BLOCKED');
    expect((await chat({ 'x-forwarded-for': '198.51.100.78' })).status, 'another address is served').toBe(200);
    const listed = (await call('auditor', 'GET', '/ip-blocks')).json['ip_blocks'] as { ip: string }[];
    expect(listed.map((block) => block.ip)).toContain('198.51.100.77');
    expect((await call('operator', 'POST', '/ip-blocks', { ip: '127.0.0.1', ttl_seconds: 60 })).json.error?.code, 'loopback would lock operators out').toBe('GW_MANAGEMENT_CONFLICT');
    expect((await call('operator', 'DELETE', '/ip-blocks/198.51.100.77')).status).toBe(200);
    expect((await chat(forwarded)).status).toBe(200);
    expect(codeOf(await call('operator', 'DELETE', '/ip-blocks/198.51.100.77'))).toBe('GW_NOT_FOUND');
  });

  it('a disabled provider is refused by the router until enabled', async () => {
    expect((await call('operator', 'POST', '/providers/oai/disable')).json).toMatchObject({ name: 'oai', disabled: true });
    const refused = await chat();
    expect(refused.status).toBe(503);
    expect((refused.json as { error: { code: string } }).error.code).toBe('GW_PROVIDER_DISABLED');
    const listed = (await call('auditor', 'GET', '/providers')).json['providers'] as { name: string; disabled: boolean; disabled_by?: string }[];
    expect(listed).toContainEqual(expect.objectContaining({ name: 'oai', disabled: true, disabled_by: 'management:operator-key' }));
    expect(codeOf(await call('operator', 'POST', '/providers/nope/disable'))).toBe('GW_NOT_FOUND');
    expect((await call('operator', 'POST', '/providers/oai/enable')).status).toBe(200);
    expect((await chat()).status).toBe(200);
  });

  it('a client key created through the API works at once and stops working when revoked', async () => {
    const created = await call('admin', 'POST', '/api-keys', { id: 'from-api' });
    expect(created.status).toBe(201);
    const key = String(created.json['key']);
    expect(key).toMatch(/^cpa_/);
    const models = () => fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) });
    expect((await models()).status).toBe(200);
    const listed = await call('auditor', 'GET', '/api-keys');
    expect(listed.text).toContain('from-api');
    expect(listed.text).not.toContain(key);
    expect(codeOf(await call('admin', 'POST', '/api-keys', { id: 'from-api' }))).toBe('GW_MANAGEMENT_CONFLICT');
    expect((await call('admin', 'DELETE', '/api-keys/from-api')).status).toBe(200);
    expect((await models()).status).toBe(401);
    const everything = JSON.stringify(events.events) + gateway.logs.join('\n');
    expect(everything, 'the new key was shown once, in its answer only').not.toContain(key);
  });

  it('PATCH and DELETE of a key: an unknown id is 404, a key of auth.api_keys 409 (the config is not rewritten), a change is recorded', async () => {
    for (const [method, body] of [['PATCH', { disabled: true }], ['DELETE', undefined]] as const) {
      const unknown = await call('admin', method, '/api-keys/no-such-key', body);
      expect([unknown.status, codeOf(unknown), unknown.json.error?.message]).toEqual([404, 'GW_NOT_FOUND', "no client key 'no-such-key'"]);
      const inConfig = await call('admin', method, `/api-keys/${testClientKeyId}`, body);
      expect([inConfig.status, codeOf(inConfig)]).toEqual([409, 'GW_MANAGEMENT_CONFLICT']);
      expect(inConfig.json.error?.message).toContain(method === 'PATCH' ? 'change it there' : 'remove it there');
    }
    expect((await call('admin', 'POST', '/api-keys', { id: 'patched' })).status).toBe(201);
    const before = events.events.length;
    const patched = await call('admin', 'PATCH', '/api-keys/patched', { disabled: true, metadata: { team: 'search' } });
    expect(patched.json['api_key']).toMatchObject({ id: 'patched', status: 'disabled' });
    expect((await call('admin', 'DELETE', '/api-keys/patched')).json).toEqual({ id: 'patched', revoked: true });
    const recorded = events.events.slice(before).filter((event) => event.event_type.startsWith('client-key-')).map((event) => `${event.event_type} ${String(event.detail)}`);
    expect(recorded).toEqual(["client-key-update client key 'patched': disabled, metadata", "client-key-revoke client key 'patched'"]);
  });

  it('credentials are listed without secrets, exported encrypted only, and deleted through the CLI service', async () => {
    const listed = await call('auditor', 'GET', '/credentials');
    expect((listed.json['credentials'] as { id: string }[]).map((credential) => credential.id)).toEqual(['cred-1', 'cred-2']);
    expect(listed.text).not.toContain(canaryAccessToken);
    const unencrypted = await call('admin', 'POST', '/credentials/export', { id: 'cred-1' });
    expect(unencrypted.status).toBe(400);
    expect(unencrypted.json.error?.message).toContain('passphrase');
    const passphrase = 'test passphrase long enough';
    const exported = await call('admin', 'POST', '/credentials/export', { id: 'cred-1', passphrase });
    expect(exported.status).toBe(200);
    expect(exported.text).not.toContain(canaryAccessToken);
    const opened = JSON.parse((await decryptExport(exported.json['export'] as never, Buffer.from(passphrase))).toString('utf8')) as { credentials: { id: string; refresh_token: string }[] };
    expect(opened.credentials[0]).toMatchObject({ id: 'cred-1', refresh_token: `${canaryRefreshToken}-cred-1` });
    expect((await call('admin', 'DELETE', '/credentials/cred-2')).json).toEqual({ deleted: ['cred-2'] });
    expect((await call('auditor', 'GET', '/credentials')).text).not.toContain('cred-2');
    const recorded = events.events.filter((event) => event.actor === 'management:admin-key' && event.event_type.startsWith('credential-'));
    expect(recorded.map((event) => `${event.event_type} ${event.result}`)).toEqual(expect.arrayContaining(['credential-export success', 'credential-delete success']));
  });

  it('the config view hides every secret; a reload is applied', async () => {
    const view = await call('auditor', 'GET', '/config');
    expect(view.status).toBe(200);
    for (const secret of [upstreamKey, gateway.clientKey, admin]) expect(view.text).not.toContain(secret);
    expect(view.text).not.toMatch(/[0-9a-f]{64}/);
    expect((view.json['config'] as { management: { keys: { role: string }[] } }).management.keys.map((key) => key.role)).toEqual(['admin', 'operator', 'auditor']);
    expect((await call('operator', 'POST', '/config/reload')).json).toEqual({ reloaded: true });
    const summary = await call('auditor', 'GET', '/security/summary');
    expect(summary.json).toMatchObject({ tls: false, management: { allow_remote: false, keys_by_role: { admin: 1, operator: 1, auditor: 1 } }, credentials: { encryption: true } });
  });

  it('records every call, refused ones included, and leaks no key into events, logs or answers', async () => {
    const before = events.events.length;
    await call('auditor', 'POST', '/ip-blocks', { ip: '198.51.100.9', ttl_seconds: 60 });
    await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key: 'not-a-key' });
    await callManagement(gateway.url, 'GET', '/v0/management/no-such-path', { key: auditor });
    const details = events.events.slice(before).filter((event) => event.event_type === 'management-call').map((event) => `${event.actor} ${event.detail}`);
    expect(details).toEqual([
      'management:auditor-key POST /v0/management/ip-blocks -> 403 GW_MANAGEMENT_FORBIDDEN from 127.0.0.1',
      'management:- GET /v0/management/whoami -> 401 GW_UNAUTHORIZED from 127.0.0.1',
      'management:auditor-key GET /v0/management/* -> 404 GW_NOT_FOUND from 127.0.0.1',
    ]);
    const everything = JSON.stringify(events.events) + gateway.logs.join('\n');
    for (const secret of [admin, operator, auditor, gateway.clientKey, upstreamKey, canaryAccessToken, canaryRefreshToken]) expect(everything).not.toContain(secret);
  });
});
