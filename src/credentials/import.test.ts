import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canaryAccessToken, canaryApiKey, canaryRefreshToken, temporaryDirectory, testKeyring } from './__fixtures__/test-support.js';
import { EncryptedFileStore } from './file-store.js';
import { importCredentialFile, parseImportFile } from './import.js';

let directory: { path: string; remove: () => void };
let store: EncryptedFileStore;
beforeEach(() => {
  directory = temporaryDirectory();
  store = new EncryptedFileStore({ dir: join(directory.path, 'auths'), keyring: testKeyring() });
});
afterEach(() => directory.remove());

const now = () => new Date('2026-02-01T00:00:00.000Z');

describe('parseImportFile', () => {
  it("maps a Go proxy's claude file (type, tokens, expired, email) and keeps non-secret fields", () => {
    const goFile = {
      type: 'claude',
      email: 'me@example.test',
      access_token: canaryAccessToken,
      refresh_token: canaryRefreshToken,
      id_token: 'canary-id-token-0001',
      expired: '2026-03-01T12:00:00+01:00',
      last_refresh: '2026-02-01T10:00:00Z',
      client_secret: 'canary-client-secret-0001',
    };
    const record = parseImportFile(Buffer.from(JSON.stringify(goFile)), '/x/claude-me@example.test.json', { now });
    expect(record).toEqual({
      id: 'claude-me-example.test',
      provider: 'claude',
      kind: 'oauth',
      email: 'me@example.test',
      access_token: canaryAccessToken,
      refresh_token: canaryRefreshToken,
      id_token: 'canary-id-token-0001',
      expires_at: Date.parse('2026-03-01T11:00:00Z'),
      created_at: '2026-02-01T00:00:00.000Z',
      updated_at: '2026-02-01T00:00:00.000Z',
      extra: { type: 'claude', last_refresh: '2026-02-01T10:00:00Z' },
    });
  });

  it('reads the Gemini layout (tokens nested under token, expiry) and honours --provider', () => {
    const goFile = { type: 'gemini', email: 'g@example.test', project_id: 'proj-1', token: { access_token: canaryAccessToken, refresh_token: canaryRefreshToken, expiry: '2026-03-01T00:00:00Z' } };
    const record = parseImportFile(Buffer.from(JSON.stringify(goFile)), '/x/gemini-g.json', { provider: 'google', now });
    expect(record).toMatchObject({ id: 'gemini-g', provider: 'google', kind: 'oauth', access_token: canaryAccessToken, expires_at: Date.parse('2026-03-01T00:00:00Z'), extra: { type: 'gemini', project_id: 'proj-1' } });
  });

  it('takes a one-line API key file with --provider, and refuses it without', () => {
    expect(parseImportFile(Buffer.from(`${canaryApiKey}\n`), '/x/openai-key.txt', { provider: 'openai', now })).toMatchObject({ id: 'openai-key.txt', provider: 'openai', kind: 'api_key', api_key: canaryApiKey });
    expect(() => parseImportFile(Buffer.from(canaryApiKey), '/x/k.txt', {})).toThrow(/needs --provider/);
  });

  it('errors name the file and never echo its content', () => {
    const cases = [Buffer.from(`{"access_token": "${canaryAccessToken}"`), Buffer.from(JSON.stringify({ type: 'claude', expired: 'soon', access_token: canaryAccessToken })), Buffer.from(JSON.stringify({ type: 'claude', email: canaryAccessToken }))];
    for (const content of cases) {
      let message = '';
      try {
        parseImportFile(content, '/x/bad.json', {});
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^\/x\/bad\.json: /);
      expect(message).not.toContain(canaryAccessToken);
    }
  });
});

describe('parseImportFile refuses implausible credentials, naming the rule and never the value', () => {
  const rule = 'a credential must be 8 to 16384 printable ASCII characters, no spaces or control characters';
  function messageOf(content: string, provider?: string): string {
    try {
      parseImportFile(Buffer.from(content), '/x/source', provider === undefined ? {} : { provider });
    } catch (error) {
      return (error as Error).message;
    }
    return 'accepted';
  }

  it('a one-line "key" holding NULs (an environ-shaped file), an escape sequence, or DEL', () => {
    for (const content of [`PATH=/bin\u0000HOME=/root\u0000SECRET=${canaryApiKey}\u0000`, `${canaryApiKey}\u001b[31m`, `${canaryApiKey}\u007f`]) {
      const message = messageOf(content, 'openai');
      expect(message).toBe(`/x/source: the API key is not a plausible credential (${content.trim().length} characters); ${rule}`);
      expect(message).not.toContain(canaryApiKey);
    }
  });

  it('a key too short or too long to be real', () => {
    expect(messageOf('abc', 'openai')).toContain(`the API key is not a plausible credential (3 characters); ${rule}`);
    expect(messageOf('k'.repeat(16_385), 'openai')).toContain('(16385 characters)');
    expect(messageOf('k'.repeat(16_384), 'openai')).toBe('accepted');
  });

  it('tokens and keys inside a JSON auth file, by field name', () => {
    for (const field of ['access_token', 'refresh_token', 'api_key', 'id_token']) {
      const file = { type: 'claude', access_token: canaryAccessToken, [field]: `${canaryRefreshToken}\r\nX-Injected: 1` };
      const message = messageOf(JSON.stringify(file));
      expect(message).toContain(`/x/source: ${field} is not a plausible credential`);
      expect(message).not.toContain(canaryRefreshToken);
    }
  });
});

describe('importCredentialFile', () => {
  it('stores encrypted, refuses a duplicate without --replace, deletes the source only on request', async () => {
    const source = join(directory.path, 'codex-me.json');
    writeFileSync(source, JSON.stringify({ type: 'codex', email: 'me@example.test', access_token: canaryAccessToken, refresh_token: canaryRefreshToken }), { mode: 0o600 });
    expect(await importCredentialFile(store, source)).toEqual({ source, id: 'codex-me', provider: 'codex', kind: 'oauth', sourceDeleted: false });
    expect(existsSync(source)).toBe(true);
    await expect(importCredentialFile(store, source)).rejects.toThrow(/already exists; pass --replace/);
    expect(await importCredentialFile(store, source, { replace: true, deleteSource: true })).toMatchObject({ sourceDeleted: true });
    expect(existsSync(source)).toBe(false);
    expect((await store.read('codex-me')).refresh_token).toBe(canaryRefreshToken);
  });
});
