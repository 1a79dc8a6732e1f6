import type { ReadonlyConfig } from '../config/schema.js';
import { redactText } from '../security/redact.js';

/** What replaces a secret in the view. */
const hidden = '***';

/**
 * Keys whose values are secrets or stand in for them wherever they appear: upstream keys, plain
 * client keys, the inline encryption key, OAuth client secrets, and the key hashes (a SHA-256 of a
 * weak key can be brute-forced offline, and no reader of the view needs it).
 */
const secretKeys = new Set(['key', 'key_sha256', 'client_secret']);

/**
 * The running config as `GET /v0/management/config` shows it: every setting an operator checks,
 * secrets replaced by `***`. Provider `api_keys` become their count's worth of `***` (how many keys
 * is useful, the keys are not), a Redis URL loses its password, and the whole text then passes the
 * redactor, so a secret registered anywhere else (an upstream key inside a `base_url`) is masked too.
 */
export function redactedConfigView(config: ReadonlyConfig): unknown {
  const view = redactNode(config, undefined);
  return JSON.parse(redactText(JSON.stringify(view))) as unknown;
}

function redactNode(node: unknown, key: string | undefined): unknown {
  if (key !== undefined && secretKeys.has(key) && typeof node === 'string') return hidden;
  if (key === 'api_keys' && Array.isArray(node)) {
    return node.map((entry: unknown) => (typeof entry === 'string' ? hidden : redactNode(entry, undefined)));
  }
  if (key === 'url' && typeof node === 'string') return withoutPassword(node);
  if (Array.isArray(node)) return node.map((entry: unknown) => redactNode(entry, undefined));
  if (typeof node === 'object' && node !== null) {
    return Object.fromEntries(Object.entries(node).map(([name, value]) => [name, redactNode(value, name)]));
  }
  return node;
}

function withoutPassword(text: string): string {
  try {
    const url = new URL(text);
    if (url.password === '' && url.username === '') return text;
    url.password = url.password === '' ? '' : hidden;
    return url.toString();
  } catch {
    return hidden;
  }
}
