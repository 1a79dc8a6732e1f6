import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyAuditChain } from '../../src/audit/verify.js';
import { ConfigError } from '../../src/config/config-error.js';
import { applyReload } from '../../src/main.js';
import { get, post } from '../helpers/http.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * The audit log of a running gateway: what the request path, the authenticator and a reload put in
 * it, over real sockets, and that the chain it wrote verifies.
 */
let setup: StandardSetup;
let records: Record<string, unknown>[];
let auditFile: string;

const recordsOf = (type: string) => records.filter((record) => record['event_type'] === type);

beforeAll(async () => {
  setup = await startStandardSetup();
  const { url, clientKey } = setup.testGateway;
  const chat = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
  await post(`${url}/v1/chat/completions`, chat, { authorization: `Bearer ${clientKey}` });
  await post(`${url}/v1/chat/completions`, chat, { authorization: `Bearer ${clientKey}` });
  await post(`${url}/v1/messages`, { model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': clientKey, 'anthropic-version': '2023-06-01' });
  await post(`${url}/v1/chat/completions`, chat, {});
  await post(`${url}/v1/chat/completions`, chat, { authorization: 'Bearer test-client-not-a-known-key' });
  await get(`${url}/v1/models`, { authorization: `Bearer ${clientKey}` });
  await get(`${url}/v0/management/config`, { 'x-management-key': 'test-management-not-configured' });
  const gateway = setup.testGateway.gateway;
  expect(applyReload(gateway, setup.testGateway.buildConfig({ providers: {} }))).toBe(true);
  // A reload that cannot be built: the same key id in the config twice.
  const refused = new ConfigError('integration-test.yaml', ['auth.api_keys: client key id used twice']);
  vi.spyOn(gateway, 'reload').mockImplementationOnce(() => {
    throw refused;
  });
  expect(applyReload(gateway, setup.testGateway.buildConfig({ providers: {} }))).toBe(false);
  await gateway.audit.flush();
  auditFile = gateway.audit.file ?? '';
  records = readFileSync(auditFile, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
});
afterAll(() => setup.stop());

describe('audit log of a running gateway', () => {
  it('starts with the file start and the server start', () => {
    expect(records.slice(0, 2).map((record) => record['event_type'])).toEqual(['audit-file-start', 'server-start']);
  });

  it('records each routed request with key id, address, provider, model, credential, status, tokens and latency', () => {
    const requests = recordsOf('provider-request');
    expect(requests).toHaveLength(3);
    const first = requests[0] ?? {};
    expect(first).toMatchObject({ result: 'success', user_id: setup.testGateway.clientKeyId, ip: '127.0.0.1', provider: 'oai', actor: null });
    expect(first['credential_ids']).toEqual([expect.stringMatching(/^oai-key-\d$/)]);
    expect(first['detail']).toMatchObject({ model: 'gpt-test', upstream_model: 'gpt-test', status: 200, error_code: null, attempts: 1, aborted: false });
    const detail = first['detail'] as Record<string, unknown>;
    expect(detail['input_tokens']).toEqual(expect.any(Number));
    expect(detail['latency_ms']).toEqual(expect.any(Number));
    expect(requests[2]).toMatchObject({ provider: 'ant', detail: expect.objectContaining({ model: 'claude-test', status: 200 }) as unknown });
    expect(typeof first['request_id']).toBe('string');
  });

  it('records an authenticated request that was not routed as a client request', () => {
    expect(recordsOf('client-request')).toEqual([expect.objectContaining({ user_id: setup.testGateway.clientKeyId, detail: expect.objectContaining({ status: 200 }) as unknown })]);
  });

  it('records refused keys with the reason and the scope, never the key', () => {
    const failures = recordsOf('auth-failure').map((record) => record['detail']);
    expect(failures).toEqual([
      { scope: 'client', reason: 'missing key' },
      { scope: 'client', reason: 'unknown key' },
      { scope: 'management', reason: 'unknown key' },
    ]);
    expect(JSON.stringify(records)).not.toContain('test-client-not-a-known-key');
    expect(JSON.stringify(records)).not.toContain(setup.testGateway.clientKey);
  });

  it('records a key\'s success once per address, not once per request', () => {
    expect(recordsOf('auth-success')).toEqual([expect.objectContaining({ user_id: setup.testGateway.clientKeyId, ip: '127.0.0.1', detail: { scope: 'client' } })]);
  });

  it('records reloads accepted and refused', () => {
    expect(recordsOf('config-reload').map((record) => [record['result'], (record['detail'] as Record<string, unknown>)['code'] ?? null])).toEqual([
      ['success', null],
      ['failure', 'CONFIG_INVALID'],
    ]);
    expect((recordsOf('config-reload')[1]?.['detail'] as Record<string, unknown>)['problem']).toBe('auth.api_keys: client key id used twice');
    expect(recordsOf('config-reload').map((record) => record['result'])).toEqual([
      'success',
      'failure',
    ]);
  });

  it('wrote a chain that verifies', async () => {
    expect(await verifyAuditChain([auditFile], undefined)).toMatchObject({ ok: true, records: records.length });
  });
});
