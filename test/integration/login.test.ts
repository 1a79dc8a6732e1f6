import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-io.js';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { prepareCredentialStore } from '../../src/credentials/startup-checks.js';
import { OAuthStub, visit } from '../../src/login/__fixtures__/oauth-stub.js';
import { startGateway } from '../../src/main.js';
import { startAnthropicStub } from '../fixtures/stub-upstreams/index.js';
import { generateTestClientKey, sha256Hex } from '../helpers/gateway.js';

/**
 * `cliproxyapi login` end to end against an OAuth stub on loopback, the CLI run in-process with the
 * test playing the browser: it reads the printed URL, lets the stub "consent", and follows the
 * redirect to the login's callback server. Every token is a canary; none may appear in stdout,
 * stderr (security events included), an error or a server log line.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface LoginRun {
  /** Resolves with the exit code. */
  exit: Promise<number>;
  output(): string;
  /** The authorize URL once the login printed it. */
  authorizeUrl(): Promise<string>;
}

async function setup(providers: (stubUrl: string) => Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const baseDir = await mkdtemp(join(tmpdir(), 'cliproxy-login-'));
  cleanups.push(() => rm(baseDir, { recursive: true, force: true }));
  const stub = new OAuthStub();
  await stub.start();
  cleanups.push(() => stub.stop());
  const configPath = join(baseDir, 'config.yaml');
  await writeFile(configPath, stringify({ server: { host: '127.0.0.1', port: 0 }, providers: providers(stub.url), ...extra }), { mode: 0o600 });
  const run = (args: string[]): LoginRun => {
    let text = '';
    const io: CliIo = { stdout: (chunk) => (text += chunk), stderr: (chunk) => (text += chunk), env: {}, cwd: baseDir, openBrowser: () => false };
    const exit = runCli(['login', ...args, '-c', configPath], io);
    return {
      exit,
      output: () => text,
      authorizeUrl: async () => {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const match = /^ {4}(https?:\/\/\S+)$/m.exec(text);
          if (match !== null) return match[1]!;
          if (Date.now() > deadline) throw new Error(`no URL printed:\n${text}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      },
    };
  };
  const storedRecords = async () => {
    const prepared = await prepareCredentialStore(loadConfig({ path: configPath, env: {} }), { env: {}, readOnly: true });
    const store = prepared.encryptedStore!;
    const records = await Promise.all((await store.fileIds()).map((id) => store.read(id)));
    store.keyring.destroy();
    return records;
  };
  /** The audit log the CLI's events went to (audit.file, ./data/logs/audit.jsonl by default). */
  const auditText = async () => readFile(loadConfig({ path: configPath, env: {} }).config.audit.file, 'utf8').catch(() => '');
  return { baseDir, stub, configPath, run, storedRecords, auditText };
}

const claudeProvider = (stubUrl: string, base = 'https://api.anthropic.com') => ({
  claude: {
    type: 'anthropic',
    base_url: base,
    api_keys: [],
    models: [{ name: 'claude-test' }],
    oauth: { authorize_url: `${stubUrl}/oauth/authorize`, token_url: `${stubUrl}/v1/oauth/token` },
    allow_private_network: true, // the stubs listen on loopback
  },
});

function expectNoToken(text: string): void {
  expect(text).not.toMatch(/canary-/);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('cliproxyapi login', () => {
  it('--help explains the flow, the flags and the headless way', async () => {
    const { run } = await setup((url) => claudeProvider(url));
    const help = run(['--help']);
    expect(await help.exit).toBe(0);
    for (const text of ['claude, codex, gemini', 'PKCE', '--no-browser', '--replace', '--timeout', 'ssh -L', 'redirect_port']) expect(help.output()).toContain(text);
  });

  it('claude: PKCE S256 and state, one-shot callback, tokens stored encrypted as an oauth record; a second callback is refused', async () => {
    const { stub, run, storedRecords, auditText } = await setup((url) => claudeProvider(url));
    const login = run(['claude', '--no-browser']);
    const authorizeUrl = await login.authorizeUrl();
    const query = new URL(authorizeUrl).searchParams;
    expect(new URL(authorizeUrl).pathname).toBe('/oauth/authorize');
    expect(Object.fromEntries(query)).toMatchObject({ code: 'true', response_type: 'code', client_id: '9d1c250a-e61b-44d9-88ed-5944d1962f5e', code_challenge_method: 'S256', scope: 'org:create_api_key user:profile user:inference' });
    expect(query.get('redirect_uri')).toMatch(/^http:\/\/localhost:\d+\/callback$/);
    expect(query.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(query.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const redirect = stub.approve(authorizeUrl);
    const answer = await visit(redirect);
    expect(answer).toMatchObject({ status: 200 });
    expect(await login.exit).toBe(0);
    // The exchange: JSON as Claude Code sends it, with the verifier the stub checked against the challenge, and state.
    expect(stub.calls).toHaveLength(1);
    expect(stub.calls[0]!.contentType).toBe('application/json');
    expect(stub.calls[0]!.fields).toMatchObject({ grant_type: 'authorization_code', redirect_uri: query.get('redirect_uri'), state: query.get('state') });

    const [record, ...others] = await storedRecords();
    expect(others).toEqual([]);
    expect(record).toMatchObject({ id: 'claude-user-example.test', provider: 'claude', kind: 'oauth', email: 'user@example.test', access_token: stub.issued[0]!.accessToken, refresh_token: stub.issued[0]!.refreshToken });
    expect(record!.expires_at).toBeGreaterThan(Date.now());
    expect(login.output()).toContain("credential 'claude-user-example.test' stored for provider 'claude'");
    expect(await auditText()).toMatch(/"event_type":"credential-login"[^\n]*"result":"success"|"result":"success"[^\n]*"event_type":"credential-login"/);
    // The callback server is gone: the same redirect again (a replay) reaches nothing.
    expect(await visit(redirect)).toEqual({ error: 'ECONNREFUSED' });
    expectNoToken(login.output());
    expect(JSON.stringify(answer)).not.toContain(new URL(redirect).searchParams.get('code'));
  });

  it('refuses a callback with a wrong state: no exchange, nothing stored, LOGIN_STATE_MISMATCH', async () => {
    const { stub, run, storedRecords, auditText } = await setup((url) => claudeProvider(url));
    const login = run(['claude', '--no-browser']);
    const redirect = new URL(stub.approve(await login.authorizeUrl()));
    redirect.searchParams.set('state', 'forged-state-value');
    expect(await visit(redirect.toString())).toMatchObject({ status: 400 });
    expect(await login.exit).toBe(1);
    expect(login.output()).toContain('code: LOGIN_STATE_MISMATCH');
    expect(stub.calls).toEqual([]);
    expect(await storedRecords()).toEqual([]);
    expect(await auditText()).toMatch(/"event_type":"credential-login"[^\n]*"result":"failure"|"result":"failure"[^\n]*"event_type":"credential-login"/);
  });

  it('ends on denied consent with LOGIN_DENIED, and ignores requests to other paths or under another Host', async () => {
    const { stub, run, storedRecords } = await setup((url) => claudeProvider(url));
    const login = run(['claude', '--no-browser']);
    const authorizeUrl = await login.authorizeUrl();
    const callback = new URL(new URL(authorizeUrl).searchParams.get('redirect_uri')!);
    // Neither of these is the callback: the login keeps waiting.
    expect(await visit(`http://${callback.host}/favicon.ico`)).toMatchObject({ status: 404 });
    expect(await visit(stub.approve(authorizeUrl), `rebound.example:${callback.port}`)).toMatchObject({ status: 400 });
    expect(await visit(stub.deny(authorizeUrl))).toMatchObject({ status: 200 });
    expect(await login.exit).toBe(1);
    expect(login.output()).toContain('consent was denied');
    expect(login.output()).toContain('code: LOGIN_DENIED');
    expect(await storedRecords()).toEqual([]);
  });

  it('times out with LOGIN_TIMEOUT and closes the callback server', async () => {
    const { run, storedRecords } = await setup((url) => claudeProvider(url));
    const login = run(['claude', '--no-browser', '--timeout', '1']);
    const redirectUri = new URL(await login.authorizeUrl()).searchParams.get('redirect_uri')!;
    expect(await login.exit).toBe(1);
    expect(login.output()).toContain('code: LOGIN_TIMEOUT');
    expect(await visit(`${redirectUri}?code=late&state=late`)).toEqual({ error: 'ECONNREFUSED' });
    expect(await storedRecords()).toEqual([]);
  });

  it('codex: the registered port, the simplified-flow parameters, a form exchange; a busy port is LOGIN_CALLBACK_PORT_BUSY', async () => {
    const port = await freePort();
    const { stub, run, storedRecords } = await setup((url) => ({
      codex: { type: 'openai', base_url: 'https://chatgpt.com/backend-api/codex', api_keys: [], models: [{ name: 'gpt-test' }], oauth: { authorize_url: `${url}/oauth/authorize`, token_url: `${url}/oauth/token`, redirect_port: port }, allow_private_network: true },
    }));
    const login = run(['codex', '--no-browser']);
    const authorizeUrl = await login.authorizeUrl();
    const query = new URL(authorizeUrl).searchParams;
    expect(query.get('redirect_uri')).toBe(`http://localhost:${port}/auth/callback`);
    expect(Object.fromEntries(query)).toMatchObject({ client_id: 'app_EMoamEEZ73f0CkXaXp7hrann', scope: 'openid profile email offline_access', codex_cli_simplified_flow: 'true', id_token_add_organizations: 'true', originator: 'codex_cli_rs' });
    // While this login holds the port, a second one cannot start.
    const second = run(['codex', '--no-browser']);
    expect(await second.exit).toBe(1);
    expect(second.output()).toContain('code: LOGIN_CALLBACK_PORT_BUSY');

    expect(await visit(stub.approve(authorizeUrl))).toMatchObject({ status: 200 });
    expect(await login.exit).toBe(0);
    expect(stub.calls[0]!.contentType).toBe('application/x-www-form-urlencoded');
    expect(stub.calls[0]!.fields.state).toBeUndefined();
    const [record] = await storedRecords();
    expect(record).toMatchObject({ id: 'codex-user-example.test', provider: 'codex', kind: 'oauth', email: 'user@example.test', extra: { type: 'codex', login: 'openai-codex', account_id: 'account-test-1' } });
    expectNoToken(login.output() + second.output());
  });

  it('gemini: refused without the client secret (LOGIN_MISCONFIGURED); with it the exchange sends it', async () => {
    const clientSecret = `test-client-secret-${Date.now()}`;
    const gemini = (url: string, withSecret: boolean) => ({
      gemini: { type: 'openai', base_url: 'https://example.invalid/v1', api_keys: [], models: [{ name: 'gemini-test' }], oauth: { profile: 'google', authorize_url: `${url}/o/oauth2/v2/auth`, token_url: `${url}/token`, ...(withSecret ? { client_secret: clientSecret } : {}) }, allow_private_network: true },
    });
    const without = await setup((url) => gemini(url, false));
    const refused = without.run(['gemini', '--no-browser']);
    expect(await refused.exit).toBe(1);
    expect(refused.output()).toContain('code: LOGIN_MISCONFIGURED');

    const { stub, run } = await setup((url) => gemini(url, true));
    const login = run(['gemini', '--no-browser', '--id', 'gemini-work']);
    const authorizeUrl = await login.authorizeUrl();
    expect(new URL(authorizeUrl).searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth2callback$/);
    expect(new URL(authorizeUrl).searchParams.get('access_type')).toBe('offline');
    expect(await visit(stub.approve(authorizeUrl))).toMatchObject({ status: 200 });
    expect(await login.exit).toBe(0);
    expect(stub.calls[0]!.fields.client_secret).toBe(clientSecret);
    expect(login.output()).toContain("credential 'gemini-work' stored for provider 'gemini'");
    expect(login.output()).not.toContain(clientSecret);
  });

  it('a running server picks the login up without a restart, and the refresher refreshes it through the same token endpoint', async () => {
    const upstream = await startAnthropicStub();
    cleanups.push(() => upstream.close());
    const clientKey = generateTestClientKey();
    const { stub, run, configPath } = await setup((url) => claudeProvider(url, upstream.baseUrl), { auth: { api_keys: [{ id: 'test-client', key_sha256: sha256Hex(clientKey) }] } });
    // Tokens that expire within Claude's refresh lead (4 h): the refresher's scheduler refreshes
    // the new credential as soon as the running server tracks it.
    stub.expiresInSeconds = 600;
    const logs: string[] = [];
    const gateway = await startGateway({
      loaded: loadConfig({ path: configPath, env: {} }),
      logStream: new Writable({ write: (chunk: Buffer, _encoding, callback) => void (logs.push(chunk.toString()), callback()) }),
      credentialWatchDebounceMs: 40,
    });
    cleanups.push(() => gateway.close());

    const login = run(['claude', '--no-browser']);
    expect(await visit(stub.approve(await login.authorizeUrl()))).toMatchObject({ status: 200 });
    expect(await login.exit).toBe(0);
    const deadline = Date.now() + 10_000;
    while (!logs.some((line) => line.includes('"event":"credential-reload"'))) {
      if (Date.now() > deadline) throw new Error('the running server did not pick the login up');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The refresh ends (persisted, then swapped in) before the request goes out.
    while (!logs.some((line) => line.includes('"event":"credential-refresh-end"') && line.includes('"outcome":"refreshed"'))) {
      if (Date.now() > deadline) throw new Error('the refresher did not refresh the new credential');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const response = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': clientKey, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    // The login's exchange, then one refresh with the login's refresh token; upstream saw the refreshed token.
    expect(stub.calls.map((call) => call.fields.grant_type)).toEqual(['authorization_code', 'refresh_token']);
    expect(stub.calls[1]!.fields.refresh_token).toBe(stub.issued[0]!.refreshToken);
    expect(upstream.requests.at(-1)!.apiKey).toBe(stub.issued[1]!.accessToken);
    expectNoToken(logs.join('') + login.output());
  });
});
