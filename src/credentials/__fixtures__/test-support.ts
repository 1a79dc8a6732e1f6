import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { generateKey, Keyring } from '../keyring.js';
import type { StoredCredentialRecord } from '../types.js';

/**
 * Shared fixtures for the credential tests (under __fixtures__, so the build leaves it out). Tokens are
 * obviously fake canaries, so a test can assert they never appear in any output.
 */
export const canaryAccessToken = 'canary-access-token-0001-zzqx';
export const canaryRefreshToken = 'canary-refresh-token-0001-zzqx';
export const canaryApiKey = 'canary-upstream-key-0001-zzqx';

export function temporaryDirectory(): { path: string; remove: () => void } {
  const path = realpathSync(mkdtempSync(join(tmpdir(), 'cliproxy-creds-')));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function testKeyring(count = 1): Keyring {
  return new Keyring(Array.from({ length: count }, () => generateKey()), 'key_file');
}

export function oauthRecord(id: string, overrides: Partial<StoredCredentialRecord> = {}): StoredCredentialRecord {
  return {
    id,
    provider: 'claude',
    kind: 'oauth',
    email: `${id}@example.test`,
    access_token: `${canaryAccessToken}-${id}`,
    refresh_token: `${canaryRefreshToken}-${id}`,
    expires_at: 1_900_000_000_000,
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** Writes config.yaml (mode 0600) into `directory` pointing auth.dir and the key file inside it, and loads it. */
export function writeTestConfig(directory: string, extraYaml = ''): { loaded: LoadedConfig; configPath: string } {
  const configPath = join(directory, 'config.yaml');
  writeFileSync(
    configPath,
    `auth:\n  dir: ./auths\n  client_keys_file: ./client-keys.json\n  encryption:\n    enabled: true\n    key_file: ./encryption.key\n${extraYaml}`,
    { mode: 0o600 },
  );
  return { loaded: loadConfig({ path: configPath, env: {} }), configPath };
}
