import { readFileSync, renameSync, statSync, symlinkSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canaryAccessToken, oauthRecord, temporaryDirectory, testKeyring } from './__fixtures__/test-support.js';
import { CredentialFileError } from './crypto.js';
import { EncryptedFileStore, sanitizeCredentialId, type UnreadableCredentialFile } from './file-store.js';

let directory: { path: string; remove: () => void };
let authDir: string;
beforeEach(() => {
  directory = temporaryDirectory();
  authDir = join(directory.path, 'auths');
});
afterEach(() => directory.remove());

describe('EncryptedFileStore', () => {
  it('round-trips a record, with the envelope fields of DESIGN.md and no token in clear', async () => {
    const store = new EncryptedFileStore({ dir: authDir, keyring: testKeyring() });
    await store.write(oauthRecord('alice'));
    expect(await store.read('alice')).toEqual(oauthRecord('alice'));
    const text = readFileSync(join(authDir, 'alice.json'), 'utf8');
    expect(text).not.toContain(canaryAccessToken);
    const envelope = JSON.parse(text) as Record<string, string | number>;
    expect(Object.keys(envelope).sort()).toEqual(['alg', 'ct', 'iv', 'kid', 'provider', 'tag', 'v']);
    expect(envelope['alg']).toBe('A256GCM');
    expect(Buffer.from(String(envelope['iv']), 'base64')).toHaveLength(12);
    expect(await store.list()).toEqual([
      { id: 'alice', provider: 'claude', kind: 'oauth', email: 'alice@example.test', expires_at: 1_900_000_000_000, kid: store.keyring.newest().kid, updated_at: '2026-01-01T00:00:00.000Z' },
    ]);
  });

  it('uses a fresh IV for every write of the same record', async () => {
    const store = new EncryptedFileStore({ dir: authDir, keyring: testKeyring() });
    await store.write(oauthRecord('alice'));
    const first = JSON.parse(readFileSync(join(authDir, 'alice.json'), 'utf8')) as { iv: string; ct: string };
    await store.write(oauthRecord('alice'));
    const second = JSON.parse(readFileSync(join(authDir, 'alice.json'), 'utf8')) as { iv: string; ct: string };
    expect(second.iv).not.toBe(first.iv);
    expect(second.ct).not.toBe(first.ct);
  });

  it('a tampered byte gives a clear error naming the file, and the other credentials still load', async () => {
    const unreadable: UnreadableCredentialFile[] = [];
    const store = new EncryptedFileStore({ dir: authDir, keyring: testKeyring(), onUnreadable: (problem) => unreadable.push(problem) });
    await store.write(oauthRecord('alice'));
    await store.write(oauthRecord('bob'));
    const file = join(authDir, 'alice.json');
    const envelope = JSON.parse(readFileSync(file, 'utf8')) as { ct: string };
    const ct = Buffer.from(envelope.ct, 'base64');
    ct[3] = (ct[3] ?? 0) ^ 0x01;
    writeFileSync(file, JSON.stringify({ ...envelope, ct: ct.toString('base64') }));

    const error = await store.read('alice').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialFileError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/authentication failed.*modified, renamed or copied/);
    expect((await store.list()).map((entry) => entry.id)).toEqual(['bob']);
    expect(unreadable).toEqual([expect.objectContaining({ id: 'alice', file, reason: 'tampered-or-moved' })]);
    expect((await store.read('bob')).access_token).toBe(`${canaryAccessToken}-bob`);
  });

  it('a renamed or copied file fails the AAD check (id is bound)', async () => {
    const store = new EncryptedFileStore({ dir: authDir, keyring: testKeyring() });
    await store.write(oauthRecord('alice'));
    copyFileSync(join(authDir, 'alice.json'), join(authDir, 'mallory.json'));
    await expect(store.read('mallory')).rejects.toThrow(/mallory\.json: authentication failed for credential 'mallory'/);
    renameSync(join(authDir, 'alice.json'), join(authDir, 'eve.json'));
    await expect(store.read('eve')).rejects.toThrow(/eve\.json: authentication failed/);
  });

  it('editing the plain provider field fails the AAD check (provider is bound)', async () => {
    const store = new EncryptedFileStore({ dir: authDir, keyring: testKeyring() });
    await store.write(oauthRecord('alice'));
    const file = join(authDir, 'alice.json');
    const envelope = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...envelope, provider: 'openai' }));
    await expect(store.read('alice')).rejects.toThrow(/provider 'openai'.*modified, renamed or copied/);
  });

  it('a wrong key, and a kid missing from the keyring, are clear errors', async () => {
    const writer = new EncryptedFileStore({ dir: authDir, keyring: testKeyring() });
    await writer.write(oauthRecord('alice'));
    const file = join(authDir, 'alice.json');
    const otherKeyring = testKeyring();
    await expect(new EncryptedFileStore({ dir: authDir, keyring: otherKeyring }).read('alice')).rejects.toThrow(/not in the keyring/);
    // Same kid, different bytes: the tag check catches it.
    const envelope = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...envelope, kid: otherKeyring.newest().kid }));
    await expect(new EncryptedFileStore({ dir: authDir, keyring: otherKeyring }).read('alice')).rejects.toThrow(/alice\.json: authentication failed/);
  });

  it('writes files 0600 and the directory 0700 even with umask 000, leaving no temp file', async () => {
    const previous = process.umask(0);
    try {
      const store = new EncryptedFileStore({ dir: join(authDir, 'nested'), keyring: testKeyring() });
      await store.write(oauthRecord('alice'));
      expect(statSync(join(authDir, 'nested', 'alice.json')).mode & 0o777).toBe(0o600);
      expect(statSync(join(authDir, 'nested')).mode & 0o777).toBe(0o700);
      expect(statSync(authDir).mode & 0o777).toBe(0o700);
    } finally {
      process.umask(previous);
    }
    expect((await import('node:fs')).readdirSync(join(authDir, 'nested'))).toEqual(['alice.json']);
  });

  it('does not follow a symlinked credential file', async () => {
    const store = new EncryptedFileStore({ dir: authDir, keyring: testKeyring() });
    await store.write(oauthRecord('alice'));
    symlinkSync(join(authDir, 'alice.json'), join(authDir, 'linked.json'));
    await expect(store.read('linked')).rejects.toThrow(/linked\.json.*symlink/);
  });

  it('refuses ids that could leave the directory', async () => {
    for (const bad of ['../escape', 'a/b', 'a\0b', '..', '.hidden', 'a..b', '', 'x'.repeat(129)]) {
      expect(() => sanitizeCredentialId(bad)).toThrow(/invalid credential id/);
    }
    expect(sanitizeCredentialId('claude-user.example_1')).toBe('claude-user.example_1');
    const store = new EncryptedFileStore({ dir: authDir, keyring: testKeyring() });
    await expect(store.write(oauthRecord('../escape'))).rejects.toThrow(/invalid credential id/);
  });

  it('reports plaintext credential files separately and deletes with onDeleted listeners', async () => {
    mkdirSync(authDir, { mode: 0o700 });
    writeFileSync(join(authDir, 'plain.json'), JSON.stringify({ type: 'claude', access_token: canaryAccessToken }), { mode: 0o600 });
    const store = new EncryptedFileStore({ dir: authDir, keyring: testKeyring() });
    await store.write(oauthRecord('alice'));
    const scan = await store.scan();
    expect(scan.plaintext).toEqual([join(authDir, 'plain.json')]);
    expect(scan.credentials.map((entry) => entry.id)).toEqual(['alice']);
    const deleted: string[] = [];
    store.onDeleted((id) => deleted.push(id));
    await store.delete('alice');
    expect(deleted).toEqual(['alice']);
    await expect(store.delete('alice')).rejects.toThrow(/no credential 'alice'/);
  });
});
