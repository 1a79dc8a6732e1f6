import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateKey, writeKeyFile } from '../../src/credentials/keyring.js';
import { writeClientKeyFile } from '../../src/security/client-key-file.js';

/**
 * A clean hardened deployment on disk, as the issue describes it: loopback bind, hashed client keys
 * in a 0600 key file, encryption on with its key file 0600 in a private data directory, audit on with
 * an HMAC key, rate limits on, the two alert rules. Every path in the config is relative, resolved
 * against the config's own directory, so the tree checks the same from any working directory.
 * Each test breaks one thing in its own copy.
 */
export interface HardenedTree {
  root: string;
  configPath: string;
  data: string;
  /** Rewrites config.yaml (mode 0600) from `config`. */
  writeConfig(config: Record<string, unknown>): void;
  remove(): void;
}

export function hardenedConfig(): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 8317, security: { rate_limit: { enabled: true, requests_per_second: 10, burst: 20 } } },
    auth: {
      dir: './data/auths',
      client_keys_file: './data/client-keys.json',
      encryption: { enabled: true, key_file: './data/encryption.key' },
    },
    audit: { enabled: true, file: './data/logs/audit.jsonl', key_file: './data/audit.key' },
    alerts: [
      { name: 'High auth failure rate', condition: 'auth_failures > 100', duration: '5m', action: 'block_ip' },
      { name: 'Rate limit violations', condition: 'rate_limit_violations > 50', duration: '1m', action: 'block_ip' },
    ],
  };
}

export async function createHardenedTree(options: { keyCreatedAt?: Date } = {}): Promise<HardenedTree> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cliproxy-doctor-')));
  chmodSync(root, 0o700);
  const data = join(root, 'data');
  mkdirSync(join(data, 'auths'), { recursive: true, mode: 0o700 });
  chmodSync(data, 0o700);
  const key = generateKey(options.keyCreatedAt ?? new Date());
  await writeKeyFile(join(data, 'encryption.key'), [key]);
  key.key.fill(0);
  const clientKey = `cpa_${randomBytes(32).toString('base64url')}`;
  writeClientKeyFile(join(data, 'client-keys.json'), [{ id: 'alice', key_sha256: createHash('sha256').update(clientKey).digest('hex'), created_at: new Date().toISOString() }]);
  writeFileSync(join(data, 'audit.key'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  const configPath = join(root, 'config.yaml');
  const writeConfig = (config: Record<string, unknown>): void => {
    writeFileSync(configPath, stringify(config), { mode: 0o600 });
    chmodSync(configPath, 0o600);
  };
  writeConfig(hardenedConfig());
  return { root, configPath, data, writeConfig, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** `base` with `patch` merged in, mappings key by key (arrays replace), for one broken setting. */
export function patched(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = result[key];
    const bothMappings = typeof current === 'object' && current !== null && !Array.isArray(current) && typeof value === 'object' && value !== null && !Array.isArray(value);
    result[key] = bothMappings ? patched(current as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return result;
}
