import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncryptedFileStore } from '../../src/credentials/file-store.js';
import { readKeyFile } from '../../src/credentials/keyring.js';
import { OAuthStub, visit } from '../../src/login/__fixtures__/oauth-stub.js';
import { startAnthropicStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { callManagement, generateManagementKeys, recordingEvents, type ManagementAnswer } from '../helpers/management.js';

/**
 * Logins started through the management API (a headless server), against the OAuth stub the CLI's
 * login tests use: the admin gets the authorize URL, and the login completes either by the
 * redirect the admin pastes back (`POST /logins/{id}/callback`) or by the browser reaching the
 * callback port. The credential is the record `cliproxyapi login` stores, and the running gateway
 * serves with it at once. Attacks: a forged state, a second answer, a low role, a token in any
 * answer, event or log line. Every token is a canary.
 */
const management = generateManagementKeys();
const oauth = new OAuthStub();
const events = recordingEvents();
let upstream: StubUpstream;
let gateway: TestGateway;
let codexPort: number;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  // A day: beyond every refresh lead (Claude's is 4 h), so the token the login stored is the one served, not a refreshed one.
  oauth.expiresInSeconds = 24 * 3600;
  await oauth.start();
  upstream = await startAnthropicStub();
  codexPort = await freePort();
  gateway = await startTestGateway({
    providers: {
      claude: { type: 'anthropic', base_url: upstream.baseUrl, api_keys: [], models: [{ name: 'claude-test' }], oauth: { authorize_url: `${oauth.url}/oauth/authorize`, token_url: `${oauth.url}/v1/oauth/token` } },
      codex: { type: 'codex', base_url: `${oauth.url}/backend-api/codex`, api_keys: [], models: [{ name: 'gpt-test' }], oauth: { authorize_url: `${oauth.url}/oauth/authorize`, token_url: `${oauth.url}/oauth/token`, redirect_port: codexPort } },
    },
    extra: { management: management.config() },
    securityEvents: events,
  });
});
afterAll(async () => {
  await gateway.stop();
  await upstream.close();
  await oauth.stop();
});

const call = (method: string, path: string, body?: unknown, key = management.keys.admin) =>
  callManagement(gateway.url, method, `/v0/management${path}`, { key, ...(body === undefined ? {} : { body }) });
const answers: ManagementAnswer[] = [];
async function logged(answer: Promise<ManagementAnswer>): Promise<ManagementAnswer> {
  const settled = await answer;
  answers.push(settled);
  return settled;
}

async function storedRecords() {
  const store = new EncryptedFileStore({ dir: join(gateway.baseDir, 'data', 'auths'), keyring: await readKeyFile(join(gateway.baseDir, 'data', 'encryption.key')) });
  const records = await Promise.all((await store.fileIds()).map((id) => store.read(id)));
  store.keyring.destroy();
  return records;
}

/** Waits (bounded) until a login is no longer pending: the browser path ends on its own. */
async function settledLogin(loginId: string): Promise<ManagementAnswer> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await logged(call('GET', `/logins/${loginId}`));
    if (answer.json['state'] !== 'pending' || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('logins through the management API', () => {
  it('claude: the authorize URL, then the pasted redirect completes it; stored like the CLI stores it, served at once, a second answer refused', async () => {
    const started = await logged(call('POST', '/logins', { kind: 'claude' }));
    expect(started.status).toBe(201);
    expect(started.json).toMatchObject({ kind: 'claude', provider: 'claude', state: 'pending' });
    const authorizeUrl = String(started.json['authorize_url']);
    const query = new URL(authorizeUrl).searchParams;
    expect(authorizeUrl.startsWith(`${oauth.url}/oauth/authorize?`)).toBe(true);
    expect(Object.fromEntries(query)).toMatchObject({ response_type: 'code', code_challenge_method: 'S256' });
    expect(query.get('redirect_uri')).toBe(started.json['redirect_uri']);
    const loginId = String(started.json['login_id']);

    // The admin's browser is elsewhere: the redirect fails there, and the admin pastes its URL.
    const redirect = oauth.approve(authorizeUrl);
    const completed = await logged(call('POST', `/logins/${loginId}/callback`, { callback_url: redirect }));
    expect(completed.status).toBe(200);
    expect(completed.json).toMatchObject({ state: 'succeeded', credential_id: 'claude-user-example.test', email: 'user@example.test' });
    expect(oauth.calls.filter((tokenCall) => tokenCall.fields.grant_type === 'authorization_code')).toHaveLength(1);

    const records = await storedRecords();
    const record = records.find((candidate) => candidate.id === 'claude-user-example.test');
    expect(record).toMatchObject({ provider: 'claude', kind: 'oauth', email: 'user@example.test', access_token: oauth.issued[0]!.accessToken, extra: { type: 'claude', login: 'anthropic' } });
    expect(events.events.some((event) => event.event_type === 'credential-login' && event.result === 'success' && event.actor === 'management:admin-key')).toBe(true);

    // The same answer again, pasted or replayed at the callback port: refused, nothing exchanged.
    expect(await logged(call('POST', `/logins/${loginId}/callback`, { callback_url: redirect }))).toMatchObject({ status: 409, json: { error: { code: 'GW_MANAGEMENT_CONFLICT' } } });
    expect(await visit(redirect)).toEqual({ error: 'ECONNREFUSED' });
    expect(oauth.calls.filter((tokenCall) => tokenCall.fields.grant_type === 'authorization_code')).toHaveLength(1);

    // The running gateway picks the credential up without a restart and sends its token upstream.
    const deadline = Date.now() + 10_000;
    let served: Response | undefined;
    while (Date.now() < deadline) {
      served = await fetch(`${gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gateway.clientKey}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await served.text();
      if (served.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(served?.status).toBe(200);
    expect(upstream.requests.at(-1)?.apiKey).toBe(oauth.issued[0]!.accessToken);
  });

  it('a pasted redirect with a forged state fails the login: no exchange, nothing stored', async () => {
    const before = oauth.calls.length;
    const started = await logged(call('POST', '/logins', { kind: 'claude', id: 'claude-forged' }));
    const redirect = new URL(oauth.approve(String(started.json['authorize_url'])));
    redirect.searchParams.set('state', 'forged-state-value');
    const completed = await logged(call('POST', `/logins/${String(started.json['login_id'])}/callback`, { callback_url: redirect.toString() }));
    expect(completed.json).toMatchObject({ state: 'failed', error: { code: 'LOGIN_STATE_MISMATCH' } });
    expect(oauth.calls.length).toBe(before);
    expect((await storedRecords()).map((record) => record.id)).not.toContain('claude-forged');
  });

  it('codex: the browser reaches the callback port itself; the login ends on its own; a denied consent and a cancel fail it', async () => {
    const started = await logged(call('POST', '/logins', { kind: 'codex' }));
    expect(started.json).toMatchObject({ provider: 'codex', redirect_uri: `http://localhost:${codexPort}/auth/callback` });
    expect(await visit(oauth.approve(String(started.json['authorize_url'])))).toMatchObject({ status: 200 });
    expect((await settledLogin(String(started.json['login_id']))).json).toMatchObject({ state: 'succeeded', credential_id: 'codex-user-example.test' });
    expect((await storedRecords()).find((record) => record.id === 'codex-user-example.test')).toMatchObject({ provider: 'codex', kind: 'oauth', extra: { type: 'codex', login: 'openai-codex' } });

    const denied = await logged(call('POST', '/logins', { kind: 'codex', id: 'codex-denied' }));
    expect(await visit(oauth.deny(String(denied.json['authorize_url'])))).toMatchObject({ status: 200 });
    expect((await settledLogin(String(denied.json['login_id']))).json).toMatchObject({ state: 'failed', error: { code: 'LOGIN_DENIED' } });

    const cancelled = await logged(call('POST', '/logins', { kind: 'codex', id: 'codex-cancelled' }));
    expect(await logged(call('DELETE', `/logins/${String(cancelled.json['login_id'])}`))).toMatchObject({ status: 200, json: { state: 'failed', error: { code: 'LOGIN_TIMEOUT' } } });
    expect(await visit(`http://localhost:${codexPort}/auth/callback?code=late&state=late`)).toEqual({ error: 'ECONNREFUSED' });
    expect(await logged(call('GET', `/logins/${String(cancelled.json['login_id'])}`))).toMatchObject({ status: 404 });
  });

  it('refuses what it cannot serve: no provider for the login (409), a bad kind (400), a lower role (403)', async () => {
    expect(await logged(call('POST', '/logins', { kind: 'gemini' }))).toMatchObject({ status: 409, json: { error: { code: 'GW_MANAGEMENT_CONFLICT' } } });
    expect((await logged(call('POST', '/logins', { kind: 'gemini' }))).json.error?.message).toContain('LOGIN_PROVIDER_UNKNOWN');
    expect(await logged(call('POST', '/logins', { kind: 'claude', provider: 'codex' }))).toMatchObject({ status: 409 });
    expect(await logged(call('POST', '/logins', { kind: 'github' }))).toMatchObject({ status: 400 });
    expect(await logged(call('POST', '/logins', { kind: 'claude', scope: 'x' }))).toMatchObject({ status: 400 });
    expect(await logged(call('POST', '/logins', { kind: 'claude' }, management.keys.operator))).toMatchObject({ status: 403, json: { error: { code: 'GW_MANAGEMENT_FORBIDDEN' } } });
  });

  it('no token or authorization code in any answer, event or log line', () => {
    const everything = [...answers.map((answer) => answer.text), ...events.events.map((event) => JSON.stringify(event)), ...gateway.logs].join('\n');
    expect(everything).not.toMatch(/canary-/);
  });
});
