import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canaryAccessToken, temporaryDirectory } from './__fixtures__/test-support.js';
import { CredentialFileError, credentialAad, decryptEnvelope, encryptEnvelope, parseCredentialFile } from './crypto.js';
import { generateKey } from './keyring.js';
import { removeStaleTemporaryFiles } from '../files/private-file.js';

describe('credential envelope', () => {
  const key = generateKey();
  const keyFor = (kid: string) => (kid === key.kid ? key.key : undefined);

  it('decrypts only with the same id and provider', () => {
    const envelope = encryptEnvelope(Buffer.from(canaryAccessToken), key, { id: 'alice', provider: 'claude' });
    expect(decryptEnvelope(envelope, keyFor, { id: 'alice', file: 'alice.json' }).toString()).toBe(canaryAccessToken);
    expect(() => decryptEnvelope(envelope, keyFor, { id: 'bob', file: 'bob.json' })).toThrow(CredentialFileError);
    expect(() => decryptEnvelope({ ...envelope, provider: 'codex' }, keyFor, { id: 'alice', file: 'alice.json' })).toThrow(/^alice\.json: authentication failed/);
  });

  it('binds id and provider unambiguously', () => {
    expect(credentialAad('a', 'b-c').equals(credentialAad('a-b', 'c'))).toBe(false);
  });

  it('never puts content into an error', () => {
    const envelope = encryptEnvelope(Buffer.from(canaryAccessToken), key, { id: 'alice', provider: 'claude' });
    const truncated = { ...envelope, tag: Buffer.alloc(8).toString('base64') };
    expect(() => decryptEnvelope(truncated, keyFor, { id: 'alice', file: 'alice.json' })).toThrow(/IV or tag of the wrong length/);
    let message = '';
    try {
      decryptEnvelope({ ...envelope, ct: Buffer.from('x').toString('base64') }, keyFor, { id: 'alice', file: 'alice.json' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/authentication failed/);
    expect(message).not.toContain(canaryAccessToken);
  });

  it('classifies files: envelope, plaintext credential, malformed', () => {
    const envelope = encryptEnvelope(Buffer.from('{}'), key, { id: 'a', provider: 'p' });
    expect(parseCredentialFile(Buffer.from(JSON.stringify(envelope)))).toEqual({ kind: 'envelope', envelope });
    expect(parseCredentialFile(Buffer.from(JSON.stringify({ type: 'claude', refresh_token: canaryAccessToken })))).toEqual({ kind: 'plaintext' });
    expect(parseCredentialFile(Buffer.from('{"v":2}'))).toMatchObject({ kind: 'malformed' });
    expect(parseCredentialFile(Buffer.from(JSON.stringify({ ...envelope, alg: 'A128CBC' })))).toMatchObject({ kind: 'malformed' });
    expect(parseCredentialFile(Buffer.from(`{"access_token":"${canaryAccessToken}"`))).toEqual({ kind: 'malformed', detail: 'not valid JSON' });
  });
});

describe('removeStaleTemporaryFiles', () => {
  let directory: { path: string; remove: () => void };
  beforeEach(() => {
    directory = temporaryDirectory();
  });
  afterEach(() => directory.remove());

  it('removes only old temp files of writePrivateFile, and only for the named target when asked', async () => {
    const stale = join(directory.path, '.alice.json.0123456789ab.tmp');
    const fresh = join(directory.path, '.bob.json.0123456789ab.tmp');
    const keyTemp = join(directory.path, '.encryption.key.0123456789ab.tmp');
    const other = join(directory.path, '.unrelated.tmp');
    for (const path of [stale, fresh, keyTemp, other]) writeFileSync(path, 'x');
    const old = new Date(Date.now() - 3_600_000);
    for (const path of [stale, keyTemp, other]) utimesSync(path, old, old);
    expect(await removeStaleTemporaryFiles(directory.path, { forTarget: 'encryption.key' })).toEqual([keyTemp]);
    expect(await removeStaleTemporaryFiles(directory.path)).toEqual([stale]);
    expect([fresh, other].every((path) => existsSync(path))).toBe(true);
  });
});
