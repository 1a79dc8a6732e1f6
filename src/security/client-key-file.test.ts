import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeFifoWithWatchdog, stopFifoWatchdogs } from '../../test/helpers/fifo.js';
import { ConfigError } from '../config/load.js';
import { readClientKeyFile } from './client-key-file.js';

/**
 * The client key file decides who may use the proxy, and it is read again on every hot reload:
 * another local user who can replace it, loosen it or point it elsewhere must be refused, with a
 * catalog code and without a hash in the message.
 */
let directory: string;
let keysDirectory: string;
let file: string;
beforeEach(() => {
  directory = realpathSync(mkdtempSync(join(tmpdir(), 'cliproxy-key-file-')));
  keysDirectory = join(directory, 'data');
  mkdirSync(keysDirectory, { mode: 0o700 });
  file = join(keysDirectory, 'client-keys.json');
});
afterEach(() => {
  stopFifoWatchdogs();
  rmSync(directory, { recursive: true, force: true });
});

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const otherUid = 65534;
const attackerHash = createHash('sha256').update('attacker-chosen-test-key').digest('hex');
const keyFileText = JSON.stringify({ v: 1, keys: [{ id: 'mallory', key_sha256: attackerHash, created_at: '2026-01-01T00:00:00.000Z' }] });

function refusal(): ConfigError {
  let caught: unknown;
  try {
    readClientKeyFile(file);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const error = caught as ConfigError;
  expect(error.message).not.toContain(attackerHash);
  return error;
}

describe('readClientKeyFile refuses what another user could have put there', () => {
  it('reads a 0600 file of ours in a 0700 directory', () => {
    writeFileSync(file, keyFileText, { mode: 0o600 });
    expect(readClientKeyFile(file).map((key) => key.id)).toEqual(['mallory']);
  });

  it('a symlink, even to a valid key file of ours', () => {
    const real = join(directory, 'real-keys.json');
    writeFileSync(real, keyFileText, { mode: 0o600 });
    symlinkSync(real, file);
    const error = refusal();
    expect(error.code).toBe('CLIENT_KEY_FILE_UNSAFE');
    expect(error.problems).toEqual(['client key file is a symlink; secret files are opened without following symlinks']);
  });

  it.skipIf(!isRoot)('a file owned by another uid (chown to 65534)', () => {
    writeFileSync(file, keyFileText, { mode: 0o600 });
    chownSync(file, otherUid, otherUid);
    const error = refusal();
    expect(error.code).toBe('CLIENT_KEY_FILE_UNSAFE');
    expect(error.problems).toEqual([`client key file is owned by uid ${otherUid}, not by the proxy's uid 0; fix: chown 0 ${file}`]);
  });

  it('a file group or others can read', () => {
    writeFileSync(file, keyFileText, { mode: 0o640 });
    chmodSync(file, 0o640);
    expect(refusal().problems).toEqual([`client key file mode 0640 lets group or others read it; fix: chmod 600 ${file}`]);
  });

  it('a directory group or others can write (they could rename their own file over it)', () => {
    writeFileSync(file, keyFileText, { mode: 0o600 });
    chmodSync(keysDirectory, 0o775);
    const error = refusal();
    expect(error.code).toBe('CLIENT_KEY_FILE_UNSAFE');
    expect(error.problems).toEqual([`${keysDirectory} (the client key file's directory) mode 0775 lets group or others replace the files in it; fix: chmod go-w ${keysDirectory}`]);
    // Others may list it: a 0755 directory is fine.
    chmodSync(keysDirectory, 0o755);
    expect(readClientKeyFile(file)).toHaveLength(1);
  });

  it.skipIf(!isRoot)('a directory owned by another uid', () => {
    writeFileSync(file, keyFileText, { mode: 0o600 });
    chownSync(keysDirectory, otherUid, otherUid);
    expect(refusal().problems).toEqual([`${keysDirectory} (the client key file's directory) is owned by uid ${otherUid}, not by the proxy's uid 0; fix: chown 0 ${keysDirectory}`]);
  });

  it('a FIFO, at once (no wait for a writer)', { timeout: 10_000 }, () => {
    makeFifoWithWatchdog(file);
    const error = refusal();
    expect(error.code).toBe('CLIENT_KEY_FILE_UNSAFE');
    expect(error.problems).toEqual(['client key file is not a regular file (a pipe)']);
  });

  it('bad content has its own code, CLIENT_KEY_FILE_INVALID, not the generic CONFIG_INVALID', () => {
    writeFileSync(file, '{not json', { mode: 0o600 });
    expect(refusal().code).toBe('CLIENT_KEY_FILE_INVALID');
    writeFileSync(file, '{"v":2,"keys":[]}', { mode: 0o600 });
    expect(refusal().code).toBe('CLIENT_KEY_FILE_INVALID');
  });
});
