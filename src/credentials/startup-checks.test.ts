import { chmodSync, existsSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test/helpers/rejection.js';
import { canaryAccessToken, canaryApiKey, canaryRefreshToken, oauthRecord, temporaryDirectory, writeTestConfig } from './__fixtures__/test-support.js';
import type { EncryptedFileStore } from './file-store.js';
import { createMemorySecurityEvents } from './security-events.js';
import { CredentialStartupError, prepareCredentialStore } from './startup-checks.js';

let directory: { path: string; remove: () => void };
beforeEach(() => {
  directory = temporaryDirectory();
});
afterEach(() => directory.remove());

const refusal = (promise: Promise<unknown>) => rejectionOf(promise, CredentialStartupError);

/** A first start: key file generated, one credential written. */
async function seeded(): Promise<{ authDir: string; keyFile: string; loaded: ReturnType<typeof writeTestConfig>['loaded'] }> {
  const { loaded } = writeTestConfig(directory.path);
  const prepared = await prepareCredentialStore(loaded, { env: {}, events: createMemorySecurityEvents() });
  await prepared.store.write(oauthRecord('alice'));
  return { authDir: join(directory.path, 'auths'), keyFile: join(directory.path, 'encryption.key'), loaded };
}

describe('prepareCredentialStore', () => {
  it('first start: creates auth.dir 0700 and a key file 0600, with a warning to back it up', async () => {
    const { loaded } = writeTestConfig(directory.path);
    const prepared = await prepareCredentialStore(loaded, { env: {}, events: createMemorySecurityEvents() });
    expect(statSync(join(directory.path, 'auths')).mode & 0o777).toBe(0o700);
    expect(statSync(join(directory.path, 'encryption.key')).mode & 0o777).toBe(0o600);
    expect(prepared.warnings.join('\n')).toMatch(/generated a new encryption key .* back it up/);
    expect(await prepared.store.list()).toEqual([]);
  });

  it('a 0644 credential file refuses the start with the exact path and chmod; --fix-permissions repairs it (audited)', async () => {
    const { authDir, loaded } = await seeded();
    const file = join(authDir, 'alice.json');
    chmodSync(file, 0o644);
    const error = await refusal(prepareCredentialStore(loaded, { env: {} }));
    expect(error.problems[0]).toBe(`${file}: mode 0644 lets group or others read it; fix: chmod 600 ${file} (or start with --fix-permissions to repair modes)`);
    const events = createMemorySecurityEvents();
    const prepared = await prepareCredentialStore(loaded, { env: {}, fixPermissions: true, events });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(events.events).toEqual([expect.objectContaining({ event_type: 'credential-permissions-fix', result: 'success', detail: `${file}: chmod 600 ${file}` })]);
    expect((await prepared.store.read('alice')).id).toBe('alice');
  });

  it('a 0755 auth dir refuses the start with chmod 700', async () => {
    const { authDir, loaded } = await seeded();
    chmodSync(authDir, 0o755);
    const error = await refusal(prepareCredentialStore(loaded, { env: {} }));
    expect(error.problems.join('\n')).toContain(`${authDir}: mode 0755 lets group or others list or enter it; fix: chmod 700 ${authDir}`);
  });

  it('a symlink pointing out of auth.dir refuses the start, even with --fix-permissions', async () => {
    const { authDir, loaded } = await seeded();
    const outside = join(directory.path, 'elsewhere.json');
    writeFileSync(outside, '{}', { mode: 0o600 });
    symlinkSync(outside, join(authDir, 'bob.json'));
    for (const fixPermissions of [false, true]) {
      const error = await refusal(prepareCredentialStore(loaded, { env: {}, fixPermissions }));
      expect(error.problems.join('\n')).toContain(`${join(authDir, 'bob.json')}: is a symlink pointing out of ${authDir} (to ${outside}); fix: rm ${join(authDir, 'bob.json')}`);
      // --fix-permissions refuses symlinks, so it must not be offered as the fix.
      expect(error.problems.join('\n')).not.toContain('--fix-permissions');
      expect(error.code).toBe('CREDENTIAL_PERMISSIONS_UNSAFE');
    }
  });

  it('a group-readable key file, and a world-readable config holding upstream keys, are refused with the fix', async () => {
    const { keyFile } = await seeded();
    chmodSync(keyFile, 0o640);
    const { loaded, configPath } = writeTestConfig(
      directory.path,
      `providers:\n  openai:\n    type: openai\n    base_url: https://api.openai.com/v1\n    api_keys: ["${canaryApiKey}"]\n    models: [{ name: gpt-4o-mini }]\n`,
    );
    chmodSync(configPath, 0o644);
    const error = await refusal(prepareCredentialStore(loaded, { env: {} }));
    expect(error.problems).toEqual([
      `${keyFile}: mode 0640 lets group or others read it; fix: chmod 600 ${keyFile}`,
      expect.stringContaining(`${configPath}: mode 0644 lets group or others read it (the config holds secrets: upstream keys, client keys or an OAuth client secret); fix: chmod 600 ${configPath}`),
    ]);
    expect(error.message).not.toContain(canaryApiKey);
  });

  it('plaintext credential files: refused with encryption on, migrated in place with --migrate', async () => {
    const { authDir, loaded } = await seeded();
    const plain = join(authDir, 'claude-bob.json');
    writeFileSync(plain, JSON.stringify({ type: 'claude', email: 'bob@example.test', access_token: canaryAccessToken, refresh_token: canaryRefreshToken }), { mode: 0o600 });
    const error = await refusal(prepareCredentialStore(loaded, { env: {} }));
    expect(error.problems).toEqual([`${plain}: holds a credential in clear while auth.encryption.enabled is true; fix: start with --migrate, or run \`cliproxyapi creds import ${plain} --delete-source\``]);
    const events = createMemorySecurityEvents();
    const prepared = await prepareCredentialStore(loaded, { env: {}, migrate: true, events });
    expect(readFileSync(plain, 'utf8')).not.toContain(canaryAccessToken);
    const store = prepared.encryptedStore as EncryptedFileStore;
    expect((await store.read('claude-bob')).refresh_token).toBe(canaryRefreshToken);
    expect(events.events.map((event) => event.event_type)).toEqual(['credential-migrate']);
    expect(JSON.stringify(events.events)).not.toContain('canary');
  });

  it('an unreadable credential file is a warning: the store serves the others', async () => {
    const { authDir, loaded } = await seeded();
    writeFileSync(join(authDir, 'broken.json'), '{"v":1,"provider":"claude","kid":"k-x","alg":"A256GCM","iv":"AAAA","ct":"AAAA","tag":"AAAA"}', { mode: 0o600 });
    const prepared = await prepareCredentialStore(loaded, { env: {}, events: createMemorySecurityEvents() });
    expect(prepared.warnings.join('\n')).toMatch(/broken\.json: .*not in the keyring.*serves with its other credentials/);
    expect((await prepared.store.list()).map((entry) => entry.id)).toEqual(['alice']);
  });

  it('credential files but no key: refused, never a fresh key that would orphan them', async () => {
    const { keyFile, loaded } = await seeded();
    rmSync(keyFile);
    const error = await refusal(prepareCredentialStore(loaded, { env: {} }));
    expect(error.problems[0]).toMatch(/no encryption key .* holds 1 credential file\(s\); restore the key/);
    expect(existsSync(keyFile)).toBe(false);
  });

  it('encryption disabled: no file is read or written in clear', async () => {
    const { loaded } = writeTestConfig(directory.path, '');
    const off = { ...loaded, config: { ...loaded.config, auth: { ...loaded.config.auth, encryption: { ...loaded.config.auth.encryption, enabled: false } } } };
    const prepared = await prepareCredentialStore(off, { env: {} });
    await expect(prepared.store.write(oauthRecord('alice'))).rejects.toThrow(/never written in clear/);
    expect(prepared.warnings.join()).toMatch(/enabled is false/);
    expect(existsSync(join(directory.path, 'encryption.key'))).toBe(false);
  });
});
