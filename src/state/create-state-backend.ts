import type { ReadonlyConfig } from '../config/schema.js';
import { MemoryStateBackend } from './memory.js';
import { RedisStateBackend } from './redis.js';
import type { StateBackend } from './types.js';

export interface StateBackendOptions {
  /**
   * Receives the secrets of the `state:` section (a Redis URL's password) before any client exists,
   * for the redactor (security/redact.ts): a client library error that quotes the URL then cannot
   * put the password in a log. A required parameter rather than an import, because state/ sits below
   * security/ in the import table (docs/architecture.md), and required so no caller can forget it.
   */
  readonly registerSecrets: (secrets: readonly string[]) => void;
}

/** The backend config `state:` asks for. Redis connects in the background; commands wait for it (bounded by their timeout). */
export function createStateBackend(state: ReadonlyConfig['state'], options: StateBackendOptions): StateBackend {
  if (state.backend === 'memory') return new MemoryStateBackend();
  const password = new URL(state.url).password;
  if (password !== '') options.registerSecrets([decodeURIComponent(password)]);
  return new RedisStateBackend({ url: state.url });
}
