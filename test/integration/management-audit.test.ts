import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditChainFiles } from '../../src/audit/audit-query.js';
import { startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { post } from '../helpers/http.js';
import { callManagement, generateManagementKeys, type ManagementAnswer, type TestRole } from '../helpers/management.js';

/**
 * `GET /v0/management/audit` on a running gateway with a keyed (HMAC) chain: every role may read it
 * and a client key may not; filters by time, event type, request id, key id and result; pages bounded
 * and chained by `after_seq` across rotated files; records exactly as stored (redacted when
 * written); bad filters refused with the catalog's 400; a record edited on disk reported in the
 * chain's verdict while the page is still served.
 */
const management = generateManagementKeys();
let stub: StubUpstream;
let gateway: TestGateway;
/** A value that must never come back: recorded as a bearer token, which the redactor masks before the write. */
const canary = `test-canary-bearer-${'7'.repeat(24)}`;

interface AuditAnswer {
  chain: { intact: boolean; records: number; algorithm: string; files: string[]; problem?: string; notes: string[] };
  records: Record<string, unknown>[];
  next_after_seq: number | null;
}

const audit = (query = '', role: TestRole = 'auditor') => callManagement(gateway.url, 'GET', `/v0/management/audit${query}`, { key: management.keys[role] });
const pageOf = (answer: ManagementAnswer) => answer.json as unknown as AuditAnswer;
const flush = () => gateway.gateway.audit.flush();

beforeAll(async () => {
  stub = await startOpenAIStub();
  gateway = await startTestGateway({
    providers: { oai: { type: 'openai', base_url: stub.baseUrl, api_keys: ['test-upstream-key-0002'], models: [{ name: 'gpt-test' }] } },
    extra: {
      management: management.config(),
      audit: { key_file: './data/audit.key', max_file_bytes: 64 * 1024 },
    },
  });
  // Enough padded records to rotate the live file at least twice (64 KiB each), through the
  // gateway's own log, in batches (the writer rotates between batches, never inside one).
  for (let index = 0; index < 300; index++) {
    gateway.gateway.audit.record({ event_type: 'test-filler', result: index % 2 === 0 ? 'success' : 'failure', actor: 'test', detail: { index, padding: 'x'.repeat(200) } });
    if (index % 50 === 49) await flush();
  }
  gateway.gateway.audit.record({ event_type: 'test-canary', result: 'success', actor: 'test', detail: `Authorization: Bearer ${canary}` });
  await flush();
});
afterAll(async () => {
  await gateway.stop();
  await stub.close();
});

describe('who may read the audit log', () => {
  it.each(['auditor', 'operator', 'admin'] as const)('%s reads it', async (role) => {
    const answer = await audit('?limit=1', role);
    expect(answer.status).toBe(200);
    expect(pageOf(answer).records).toHaveLength(1);
  });

  it('a client key and no key are refused', async () => {
    const withClientKey = await callManagement(gateway.url, 'GET', '/v0/management/audit', { key: gateway.clientKey });
    expect(withClientKey.status).toBe(401);
    expect((await callManagement(gateway.url, 'GET', '/v0/management/audit')).status).toBe(401);
  });
});

describe('what it returns', () => {
  it('reads the rotated files too, in chain order, one bounded page at a time', async () => {
    const files = await auditChainFiles(gateway.gateway.audit.file ?? '');
    expect(files.length, 'the live file rotated').toBeGreaterThanOrEqual(3);
    const seen: number[] = [];
    let query = '?event_type=test-filler&limit=128';
    for (let pages = 0; pages < 10; pages++) {
      const raw = await audit(query);
      expect(raw.status, raw.text).toBe(200);
      const page = pageOf(raw);
      expect(page.records.length).toBeLessThanOrEqual(128);
      seen.push(...page.records.map((record) => (record['detail'] as { index: number }).index));
      if (page.next_after_seq === null) break;
      query = `?event_type=test-filler&limit=128&after_seq=${page.next_after_seq}`;
    }
    expect(seen).toEqual(Array.from({ length: 300 }, (_unused, index) => index));
    const answer = pageOf(await audit('?limit=1'));
    expect(answer.chain).toMatchObject({ intact: true, algorithm: 'hmac-sha256' });
    // The chain only grows (each call is recorded, and a flush may rotate again meanwhile).
    expect(answer.chain.files).toEqual(expect.arrayContaining(files.map((file) => basename(file))));
    expect(answer.records[0]).toMatchObject({ seq: 1, event_type: 'audit-file-start' });
  });

  it('returns each record byte for byte as stored, hash included, already redacted', async () => {
    const [record] = pageOf(await audit('?event_type=test-canary')).records;
    const files = await auditChainFiles(gateway.gateway.audit.file ?? '');
    const stored = (await Promise.all(files.map((file) => readFile(file, 'utf8')))).join('').split('\n');
    expect(stored).toContain(JSON.stringify(record));
    expect(JSON.stringify(record)).toContain('***');
    expect((await audit('?event_type=test-canary')).text).not.toContain(canary);
  });

  it('filters by request id, key id, result, several event types and time', async () => {
    const chat = await post(`${gateway.url}/v1/chat/completions`, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${gateway.clientKey}` });
    expect(chat.status).toBe(200);
    const requestId = chat.headers.get('x-request-id') ?? '';
    await post(`${gateway.url}/v1/chat/completions`, { model: 'gpt-test', messages: [] }, { authorization: 'Bearer test-client-unknown-key' });
    await flush();

    const byRequest = pageOf(await audit(`?request_id=${encodeURIComponent(requestId)}`)).records;
    expect(byRequest.map((record) => record['event_type'])).toContain('provider-request');
    expect(byRequest.every((record) => record['request_id'] === requestId)).toBe(true);
    expect(byRequest.find((record) => record['event_type'] === 'provider-request')).toMatchObject({ user_id: gateway.clientKeyId, provider: 'oai' });

    const byKey = pageOf(await audit(`?user_id=${gateway.clientKeyId}&event_type=provider-request`)).records;
    expect(byKey).toHaveLength(1);
    const failures = pageOf(await audit('?event_type=auth-failure,auth-success&result=failure')).records;
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures.every((record) => record['event_type'] === 'auth-failure' && record['result'] === 'failure')).toBe(true);

    const future = pageOf(await audit(`?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`));
    expect(future.records).toEqual([]);
    const past = pageOf(await audit(`?until=${encodeURIComponent('2000-01-01T00:00:00Z')}`));
    expect(past.records).toEqual([]);
    const window = pageOf(await audit(`?since=2000-01-01T00:00:00%2B02:00&until=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&event_type=provider-request`));
    expect(window.records).toHaveLength(1);
  });

  it('masks a client-sent request id that carries a secret (a generated id is written as it is)', async () => {
    // The upstream's key as the id: a sane token, so the gateway keeps it, and the record must not show it.
    const chat = await post(`${gateway.url}/v1/chat/completions`, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${gateway.clientKey}`, 'x-request-id': 'test-upstream-key-0002' });
    expect(chat.status).toBe(200);
    expect(chat.headers.get('x-request-id')).toBe('test-upstream-key-0002');
    await flush();
    const records = pageOf(await audit('?event_type=provider-request')).records;
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(records)).not.toContain('test-upstream-key-0002');
  });

  it('each read is itself recorded as a management call', async () => {
    await audit('?limit=1');
    await flush();
    const calls = pageOf(await audit('?event_type=management-call&limit=1000')).records;
    expect(calls.some((record) => String(record['detail']).startsWith('GET /v0/management/audit -> 200'))).toBe(true);
  });
});

describe('bad filters', () => {
  it.each([
    ['?since=yesterday', 'since'],
    ['?since=2026-12-03', 'since'],
    ['?until=2026-13-45T99:00:00Z', 'until'],
    ['?since=2026-12-03T10:00:00Z&until=2026-12-03T09:00:00Z', 'until'],
    ['?limit=0', 'limit'],
    ['?limit=1001', 'limit'],
    ['?limit=ten', 'limit'],
    ['?after_seq=-1', 'after_seq'],
    ['?event_type=Auth_Failure', 'event_type'],
    ['?event_type=a,,b', 'event_type'],
    ['?result=maybe', 'result'],
    ['?verbose=1', 'verbose'],
    ['?limit=1&limit=2', 'limit'],
  ])('%s is 400 GW_INVALID_REQUEST naming %s', async (query, parameter) => {
    const answer = await audit(query);
    expect(answer.status).toBe(400);
    expect(answer.json.error?.code).toBe('GW_INVALID_REQUEST');
    expect(answer.json.error?.message).toContain(parameter);
  });

  it('another endpoint refuses a query parameter it does not take', async () => {
    const answer = await callManagement(gateway.url, 'GET', '/v0/management/whoami?debug=1', { key: management.keys.auditor });
    expect(answer.status).toBe(400);
    expect(answer.json.error?.code).toBe('GW_INVALID_REQUEST');
  });
});

describe('a tampered file', () => {
  it('is reported in the chain verdict, naming the record, and the page is still served', async () => {
    const [oldest] = await auditChainFiles(gateway.gateway.audit.file ?? '');
    const text = await readFile(oldest ?? '', 'utf8');
    const lines = text.split('\n');
    const target = lines.findIndex((line) => line.includes('"event_type":"test-filler","result":"failure"'));
    expect(target).toBeGreaterThan(0);
    lines[target] = (lines[target] ?? '').replace('"result":"failure"', '"result":"success"');
    await writeFile(oldest ?? '', lines.join('\n'));

    const answer = await audit('?limit=5');
    expect(answer.status).toBe(200);
    const { chain, records } = pageOf(answer);
    expect(chain.intact).toBe(false);
    expect(chain.problem).toContain(`${basename(oldest ?? '')}:${target + 1}`);
    expect(chain.problem).toContain('edited');
    expect(records).toHaveLength(5);
  });
});
