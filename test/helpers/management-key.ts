import { randomBytes } from 'node:crypto';
import type { LoadedConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { sha256Hex } from './gateway.js';

/**
 * A management key for tests of the management scope: random, obviously a test value.
 * `withManagementKey` returns a copy of a loaded config with management on and this key added to its
 * keys (admin unless a role is given): a test adds keys of several roles without writing a keys file.
 */
export function generateManagementKey(): string {
  return `test-management-${randomBytes(24).toString('hex')}`;
}

export function withManagementKey(loaded: LoadedConfig, key: string, id = 'test-ops', role: 'admin' | 'operator' | 'auditor' = 'admin'): LoadedConfig {
  const config = structuredClone(loaded.config) as Config;
  config.management = { ...config.management, enabled: true, keys: [...config.management.keys, { id, role, key_sha256: sha256Hex(key) }] };
  return { ...loaded, config };
}
