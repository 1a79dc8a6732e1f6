import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText, type LoadedConfig } from '../config/load.js';
import {
  collectClientKeys,
  createClientKey,
  createClientKeyAuthenticator,
  ensureInitialClientKey,
  generateClientKey,
  listClientKeys,
  readClientKeyFile,
  revokeClientKey,
  writeClientKeyFile,
} from './client-keys.js';

const configKey = 'test-client-key-0001-abcdefghijklmnopqrstuvwxyz';
const sha256 = (text: string) => createHash('sha256').update(text).digest();

let directory: string;
let savedUmask: number;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-keys-'));
  savedUmask = process.umask();
});
afterEach(() => {
  process.umask(savedUmask);
  rmSync(directory, { recursive: true, force: true });
});

function configWith(text = ''): LoadedConfig {
  return parseConfigText(text, { sourceName: 'keys-test', baseDir: directory, env: {} });
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('generateClientKey', () => {
  it('is cpa_ + 43 base64url characters (32 random bytes), different every time', () => {
    const first = generateClientKey();
    expect(first).toMatch(/^cpa_[A-Za-z0-9_-]{43}$/);
    expect(generateClientKey()).not.toBe(first);
  });
});

describe('key file', () => {
  it('is written 0600 in a created 0700 directory even under umask 000, with no temp file left', () => {
    process.umask(0o000);
    const file = join(directory, 'nested', 'data', 'client-keys.json');
    writeClientKeyFile(file, [{ id: 'a', key_sha256: sha256('x').toString('hex'), created_at: '2025-01-01T00:00:00.000Z' }]);
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(join(directory, 'nested', 'data'))).toBe(0o700);
    expect(modeOf(join(directory, 'nested'))).toBe(0o700);
    expect(readdirSync(join(directory, 'nested', 'data'))).toEqual(['client-keys.json']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      v: 1,
      keys: [{ id: 'a', key_sha256: sha256('x').toString('hex'), created_at: '2025-01-01T00:00:00.000Z' }],
    });
  });

  it('reads a missing file as no keys, and names the file on bad JSON or shape', () => {
    const file = join(directory, 'keys.json');
    expect(readClientKeyFile(file)).toEqual([]);
    writeFileSync(file, '{not json', { mode: 0o600 });
    expect(() => readClientKeyFile(file)).toThrow(ConfigError);
    expect(() => readClientKeyFile(file)).toThrow(`invalid config ${file} (1 problem):\n  - client key file is not valid JSON`);
    writeFileSync(file, '{"v":2,"keys":[]}');
    expect(() => readClientKeyFile(file)).toThrow(/expected shape/);
  });

  it('refuses a key file that group or others can read or write (more cases in client-key-file.test.ts)', () => {
    const file = join(directory, 'keys.json');
    writeFileSync(file, '{"v":1,"keys":[]}');
    chmodSync(file, 0o666);
    expect(() => readClientKeyFile(file)).toThrow(/client key file mode 0666 lets group or others read it; fix: chmod 600/);
  });
});

describe('create, list, revoke', () => {
  it('creates keys that are stored only as hashes, lists ids without secrets, revokes', () => {
    const loaded = configWith(`auth: { api_keys: [{ id: from-config, key: "${configKey}" }] }\n`);
    const created = createClientKey(loaded, 'alice');
    expect(created.id).toBe('alice');
    const fileText = readFileSync(loaded.config.auth.client_keys_file, 'utf8');
    expect(fileText).not.toContain(created.key);
    expect(fileText).toContain(sha256(created.key).toString('hex'));

    const listed = listClientKeys(loaded);
    expect(listed.map(({ id, source }) => ({ id, source }))).toEqual([
      { id: 'from-config', source: 'config' },
      { id: 'alice', source: 'file' },
    ]);
    expect(listed[1]!.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(JSON.stringify(listed)).not.toContain(configKey);

    expect(() => createClientKey(loaded, 'alice')).toThrow(/already exists/);
    expect(() => createClientKey(loaded, 'from-config')).toThrow(/defined in the config file/);
    expect(() => createClientKey(loaded, '../etc')).toThrow(/invalid key id/);

    expect(revokeClientKey(loaded, 'from-config')).toBe('in-config');
    expect(revokeClientKey(loaded, 'nobody')).toBe('not-found');
    expect(revokeClientKey(loaded, 'alice')).toBe('revoked');
    expect(listClientKeys(loaded).map((key) => key.id)).toEqual(['from-config']);
  });
});

describe('ensureInitialClientKey', () => {
  it('creates a default key on first start only', () => {
    process.umask(0o000);
    const loaded = configWith();
    const initial = ensureInitialClientKey(loaded);
    expect(initial?.id).toBe('default');
    expect(modeOf(join(directory, 'data'))).toBe(0o700);
    expect(modeOf(loaded.config.auth.client_keys_file)).toBe(0o600);
    expect(createClientKeyAuthenticator(collectClientKeys(loaded)).authenticate(initial!.key)?.id).toBe('default');
    expect(ensureInitialClientKey(loaded)).toBeUndefined();
  });

  it('does nothing when the config defines keys, or when every file key was revoked', () => {
    expect(ensureInitialClientKey(configWith(`auth: { api_keys: [{ id: a, key: "${configKey}" }] }\n`))).toBeUndefined();
    expect(existsSync(join(directory, 'data'))).toBe(false);
    const loaded = configWith();
    createClientKey(loaded, 'temporary');
    revokeClientKey(loaded, 'temporary');
    expect(ensureInitialClientKey(loaded)).toBeUndefined();
  });
});

describe('collectClientKeys + authenticator', () => {
  it('merges config keys (hash and plain) with file keys and returns the matching id', () => {
    const hashedKey = 'test-client-key-0002-abcdefghijklmnopqrstuvwxyz';
    const loaded = configWith(
      `auth: { api_keys: [{ id: plain, key: "${configKey}" }, { id: hashed, key_sha256: "${sha256(hashedKey).toString('hex').toUpperCase()}" }] }\n`,
    );
    const created = createClientKey(loaded, 'filed');
    const authenticator = createClientKeyAuthenticator(collectClientKeys(loaded));
    expect(authenticator.size).toBe(3);
    expect(authenticator.authenticate(configKey)?.id).toBe('plain');
    expect(authenticator.authenticate(hashedKey)?.id).toBe('hashed');
    expect(authenticator.authenticate(created.key)?.id).toBe('filed');
  });

  it('rejects wrong, empty, undefined, near-miss and oversized keys', () => {
    const authenticator = createClientKeyAuthenticator([{ id: 'alice', sha256: sha256(configKey) }]);
    expect(authenticator.authenticate('test-client-key-0001-wrong')).toBeUndefined();
    expect(authenticator.authenticate(`${configKey} `)).toBeUndefined();
    expect(authenticator.authenticate(configKey.slice(0, -1))).toBeUndefined();
    expect(authenticator.authenticate('')).toBeUndefined();
    expect(authenticator.authenticate(undefined)).toBeUndefined();
    expect(authenticator.authenticate('a'.repeat(100_000))).toBeUndefined();
    expect(authenticator.authenticate(configKey)?.id).toBe('alice');
  });

  it('returns the key\'s one principal: source client-key, unrestricted policy, the same frozen object each time', () => {
    const authenticator = createClientKeyAuthenticator([{ id: 'alice', sha256: sha256(configKey) }]);
    const first = authenticator.authenticate(configKey);
    expect(first).toEqual({ id: 'alice', source: 'client-key', policy: { scoped: false, limited: false } });
    expect(authenticator.authenticate(configKey)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('with no keys refuses everything', () => {
    const authenticator = createClientKeyAuthenticator([]);
    expect(authenticator.size).toBe(0);
    expect(authenticator.authenticate(configKey)).toBeUndefined();
  });

  it('refuses an id defined both in the config and in the key file', () => {
    const loaded = configWith(`auth: { api_keys: [{ id: alice, key: "${configKey}" }] }\n`);
    writeClientKeyFile(loaded.config.auth.client_keys_file, [
      { id: 'alice', key_sha256: sha256('other').toString('hex'), created_at: '2025-01-01T00:00:00.000Z' },
    ]);
    expect(() => collectClientKeys(loaded)).toThrow(/defined both in the config and in/);
  });

  it('refuses digests that are not 32 bytes', () => {
    expect(() => createClientKeyAuthenticator([{ id: 'x', sha256: Buffer.alloc(16) }])).toThrow(/32-byte/);
  });
});
