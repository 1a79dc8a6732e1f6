import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canaryAccessToken, oauthRecord, temporaryDirectory, writeTestConfig } from './__fixtures__/test-support.js';
import { EncryptedFileStore } from './file-store.js';
import { Keyring, readKeyFile } from './keyring.js';
import { rotateEncryptionKey } from './rotate.js';
import { createMemorySecurityEvents } from './security-events.js';
import { prepareCredentialStore } from './startup-checks.js';

const cliEntry = resolve(fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url)));
const ids = ['cred-a', 'cred-b', 'cred-c', 'cred-d', 'cred-e'];

let directory: { path: string; remove: () => void };
beforeEach(() => {
  directory = temporaryDirectory();
});
afterEach(() => directory.remove());

async function seed(): Promise<{ configPath: string; keyFile: string; authDir: string; store: EncryptedFileStore }> {
  const { loaded, configPath } = writeTestConfig(directory.path);
  const prepared = await prepareCredentialStore(loaded, { env: {}, events: createMemorySecurityEvents() });
  for (const id of ids) await prepared.store.write(oauthRecord(id));
  return { configPath, keyFile: join(directory.path, 'encryption.key'), authDir: join(directory.path, 'auths'), store: prepared.encryptedStore as EncryptedFileStore };
}

/** Every credential decrypts with the keyring now on disk, and holds its original token. */
async function expectAllDecryptable(keyFile: string, authDir: string): Promise<string[]> {
  const keyring = await readKeyFile(keyFile);
  const store = new EncryptedFileStore({ dir: authDir, keyring });
  const kids: string[] = [];
  for (const id of ids) {
    const record = await store.read(id);
    expect(record.access_token).toBe(`${canaryAccessToken}-${id}`);
    kids.push((await store.readEnvelope(id)).kid);
  }
  return kids;
}

/**
 * Runs the real CLI `encryption rotate` in a child process (slowed down between steps by the test
 * hook) and SIGKILLs it when its progress output contains `killAfter`. Resolves with the output seen.
 */
function rotateAndKill(configPath: string, killAfter: string | undefined, extraArgs: string[] = []): Promise<{ stderr: string; killed: boolean }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliEntry, 'encryption', 'rotate', '-c', configPath, ...extraArgs], {
      env: { PATH: process.env['PATH'] ?? '', CLIPROXY_TEST_ROTATION_PAUSE_MS: '150' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let killed = false;
    if (killAfter === undefined) {
      killed = child.kill('SIGKILL');
    }
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (!killed && killAfter !== undefined && stderr.includes(killAfter)) killed = child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', () => resolvePromise({ stderr, killed }));
  });
}

describe('rotateEncryptionKey', () => {
  it('adds a key, re-encrypts every file under it, keeps the old key until --retire-old', async () => {
    const { keyFile, authDir, store } = await seed();
    const oldKid = store.keyring.newest().kid;
    const result = await rotateEncryptionKey({ keyFile, store });
    expect(result.reencrypted).toEqual(ids);
    expect((await readKeyFile(keyFile)).keys.map((entry) => entry.kid)).toEqual([oldKid, result.newKid]);
    expect(new Set(await expectAllDecryptable(keyFile, authDir))).toEqual(new Set([result.newKid]));

    const retired = await rotateEncryptionKey({ keyFile, store, resume: true, retireOld: true });
    expect(retired.reencrypted).toEqual([]);
    expect(retired.retiredKids).toEqual([oldKid]);
    expect((await readKeyFile(keyFile)).keys.map((entry) => entry.kid)).toEqual([result.newKid]);
    await expectAllDecryptable(keyFile, authDir);
  });

  it('does not retire old keys while a file cannot be re-encrypted', async () => {
    const { keyFile, authDir, store } = await seed();
    writeFileSync(join(authDir, 'broken.json'), '{"v":1,"provider":"claude","kid":"k-gone","alg":"A256GCM","iv":"AAAAAAAAAAAAAAAA","ct":"AAAA","tag":"AAAAAAAAAAAAAAAAAAAAAA=="}', { mode: 0o600 });
    await expect(rotateEncryptionKey({ keyFile, store, retireOld: true })).rejects.toThrow(/not retiring old keys: 1 credential file\(s\) could not be re-encrypted \(broken\)/);
    expect((await readKeyFile(keyFile)).keys).toHaveLength(2);
    await expectAllDecryptable(keyFile, authDir);
  });

  it('never overwrites a credential rewritten (refreshed) while the rotation runs', async () => {
    const { keyFile, authDir, store } = await seed();
    let reads = 0;
    const racing = new (class extends EncryptedFileStore {
      override async readEnvelope(id: string) {
        const envelope = await super.readEnvelope(id);
        // Between the rotation's read and its write, the proxy refreshes cred-b.
        if (id === 'cred-b' && ++reads === 1) await store.write(oauthRecord('cred-b', { access_token: 'refreshed-token-0002' }));
        return envelope;
      }
    })({ dir: authDir, keyring: store.keyring });
    const result = await rotateEncryptionKey({ keyFile, store: racing });
    expect(result.changedDuringRotation).toEqual(['cred-b']);
    expect(result.reencrypted).toEqual(ids.filter((id) => id !== 'cred-b'));
    const reread = new EncryptedFileStore({ dir: authDir, keyring: await readKeyFile(keyFile) });
    expect((await reread.read('cred-b')).access_token).toBe('refreshed-token-0002');
    await expect(rotateEncryptionKey({ keyFile, store: reread, resume: true, retireOld: true })).resolves.toMatchObject({ reencrypted: ['cred-b'] });
  });

  it('refuses to rotate a key that does not come from the key file', async () => {
    const { keyFile, authDir } = await seed();
    const envKeyring = new Keyring([{ kid: 'k-env', key: randomBytes(32), created_at: '' }], 'env');
    await expect(rotateEncryptionKey({ keyFile, store: new EncryptedFileStore({ dir: authDir, keyring: envKeyring }) })).rejects.toThrow(/rotation needs the keyring in auth.encryption.key_file/);
  });

  it('a SIGKILL at any point of a real `encryption rotate` leaves every credential decryptable', async () => {
    const { configPath, keyFile, authDir } = await seed();
    const killPoints = [undefined, 'keyring written', 'cred-a re-encrypted', 'cred-c re-encrypted', 'cred-e re-encrypted'];
    for (const killAfter of killPoints) {
      const outcome = await rotateAndKill(configPath, killAfter);
      expect(outcome.killed).toBe(true);
      if (killAfter !== undefined) expect(outcome.stderr).toContain(killAfter);
      const kids = await expectAllDecryptable(keyFile, authDir);
      // Killed mid-pass: some files under the new key, the rest still under an older one.
      if (killAfter === 'cred-a re-encrypted' || killAfter === 'cred-c re-encrypted') expect(new Set(kids).size).toBeGreaterThan(1);
    }
    // A kill while old keys are being retired: the keyring is either the old superset or the new one.
    const retiring = await rotateAndKill(configPath, 'cred-e re-encrypted', ['--retire-old']);
    expect(retiring.killed).toBe(true);
    await expectAllDecryptable(keyFile, authDir);
    // Finishing the interrupted rotation converges on one key under which every file is encrypted.
    const finish = await rotateAndKill(configPath, 'never printed', ['--resume', '--retire-old']);
    expect(finish.killed).toBe(false);
    expect(finish.stderr).toContain('rotation: old keys retired');
    const keyring = await readKeyFile(keyFile);
    expect(keyring.keys).toHaveLength(1);
    expect(new Set(await expectAllDecryptable(keyFile, authDir))).toEqual(new Set([keyring.newest().kid]));
    expect(finish.stderr).not.toContain(canaryAccessToken);
  }, 60_000);
});
