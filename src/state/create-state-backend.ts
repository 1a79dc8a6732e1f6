import type { ReadonlyConfig } from '../config/schema.js';
import { registerSecrets } from '../security/redact.js';
import { MemoryStateBackend } from './memory.js';
import { RedisStateBackend } from './redis.js';
import type { StateBackend } from './types.js';

/**
 * The backend config `state:` asks for. Redis connects in the background; commands wait for it
 * (bounded by their timeout). A password in the URL is registered with the redactor first, so a
 * client library error that quotes the URL cannot put it in a log.
 */
export function createStateBackend(state: ReadonlyConfig['state']): StateBackend {
  if (state.backend === 'memory') return new MemoryStateBackend();
  const password = new URL(state.url).password;
  if (password !== '') registerSecrets([decodeURIComponent(password)]);
  return new RedisStateBackend({ url: state.url });
}
