import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { temporaryDirectory } from './__fixtures__/test-support.js';
import { generateKey, kidFor, loadKeyring, parseKeyText, readKeyFile, writeKeyFile } from './keyring.js';

let directory: { path: string; remove: () => void };
beforeEach(() => {
  directory = temporaryDirectory();
});
afterEach(() => directory.remove());

describe('key validation', () => {
  it('accepts 32 random bytes in base64', () => {
    const bytes = randomBytes(32);
    expect(parseKeyText(bytes.toString('base64'), 'test')).toEqual(bytes);
  });

  it.each([
    ['the placeholder', 'YOUR_32_BYTE_ENCRYPTION_KEY_HERE'],
    ['an empty key', '   '],
    ['a short key', randomBytes(16).toString('base64')],
    ['a long key', randomBytes(48).toString('base64')],
    ['not base64', 'not a key at all, definitely not !!'],
    ['one repeated byte', Buffer.alloc(32, 7).toString('base64')],
    ['a short repeated pattern', Buffer.from('abcd'.repeat(8)).toString('base64')],
  ])('refuses %s and says how to make a key', (_name, text) => {
    expect(() => parseKeyText(text, 'CLIPROXY_ENCRYPTION_KEY')).toThrow(/CLIPROXY_ENCRYPTION_KEY: .*cliproxyapi encryption keygen/);
  });

  it('accepts the seed form (32 plain characters) only where allowed', () => {
    const seedForm = 'q8Zr2LmX0vN4tB7wK1pC9sD6fG3hJ5yE';
    expect(() => parseKeyText(seedForm, 'env')).toThrow(/32 random bytes, base64/);
    expect(parseKeyText(seedForm, 'auth.encryption.key', { allowRaw: true })).toHaveLength(32);
  });
});

describe('key file', () => {
  it('writes a keyring JSON 0600 (umask 000) and reads it back, newest last', async () => {
    const path = join(directory.path, 'sub', 'encryption.key');
    const first = generateKey();
    const second = generateKey();
    const previous = process.umask(0);
    try {
      await writeKeyFile(path, [first, second]);
    } finally {
      process.umask(previous);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(directory.path, 'sub')).mode & 0o777).toBe(0o700);
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { v: number; keys: { kid: string }[] };
    expect(parsed.v).toBe(1);
    const keyring = await readKeyFile(path);
    expect(keyring.keys.map((entry) => entry.kid)).toEqual([first.kid, second.kid]);
    expect(keyring.newest().kid).toBe(second.kid);
    expect(keyring.keyFor(first.kid)).toEqual(first.key);
    keyring.destroy();
    expect(keyring.keys.every((entry) => entry.key.every((byte) => byte === 0))).toBe(true);
  });

  it('reads a bare base64 line as a keyring of one', async () => {
    const path = join(directory.path, 'encryption.key');
    const bytes = randomBytes(32);
    writeFileSync(path, `${bytes.toString('base64')}\n`, { mode: 0o600 });
    const keyring = await readKeyFile(path);
    expect(keyring.newest().kid).toBe(kidFor(bytes));
  });

  it('refuses a group-readable key file with the chmod, and a symlinked one', async () => {
    const path = join(directory.path, 'encryption.key');
    await writeKeyFile(path, [generateKey()]);
    chmodSync(path, 0o644);
    await expect(readKeyFile(path)).rejects.toThrow(`chmod 600 ${path}`);
    chmodSync(path, 0o600);
    symlinkSync(path, join(directory.path, 'linked.key'));
    await expect(readKeyFile(join(directory.path, 'linked.key'))).rejects.toThrow(/symlink/);
  });

  it('takes the env key first, then the key file, then the config key with a warning', async () => {
    const path = join(directory.path, 'encryption.key');
    const fileKey = generateKey();
    await writeKeyFile(path, [fileKey]);
    const envBytes = randomBytes(32);
    const fromEnv = await loadKeyring({ env: { CLIPROXY_ENCRYPTION_KEY: envBytes.toString('base64') }, keyFile: path, keyFileExists: true, configKey: undefined });
    expect(fromEnv?.keyring.source).toBe('env');
    expect(fromEnv?.keyring.newest().kid).toBe(kidFor(envBytes));
    const fromFile = await loadKeyring({ env: {}, keyFile: path, keyFileExists: true, configKey: randomBytes(32).toString('base64') });
    expect(fromFile?.keyring.newest().kid).toBe(fileKey.kid);
    const fromConfig = await loadKeyring({ env: {}, keyFile: path, keyFileExists: false, configKey: randomBytes(32).toString('base64') });
    expect(fromConfig?.keyring.source).toBe('config');
    expect(fromConfig?.warnings.join()).toMatch(/auth\.encryption\.key: .*move it to auth\.encryption\.key_file/);
    expect(await loadKeyring({ env: {}, keyFile: path, keyFileExists: false, configKey: undefined })).toBeUndefined();
    await expect(loadKeyring({ env: {}, keyFile: path, keyFileExists: false, configKey: 'YOUR_32_BYTE_ENCRYPTION_KEY_HERE' })).rejects.toThrow(/placeholder.*keygen/);
  });
});
