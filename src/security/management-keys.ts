import type { IncomingHttpHeaders } from 'node:http';
import { ConfigError } from '../config/config-error.js';
import type { ReadonlyConfig } from '../config/schema.js';
import { createKeyAuthenticator, type KeyAuthenticator, type KeyDigest } from './key-authenticator.js';

/**
 * The management scope's authenticator (`/v0/management/*`, `/metrics`): its own keys
 * (`management.keys`, SHA-256 digests), never the client keys. Built once per config (re)load.
 *
 * - `management.enabled: false` (the default) gives an authenticator with no keys: every request
 *   to the scope is refused with 401, whatever it carries, so a disabled management API answers
 *   the same to everyone and reveals nothing about its routes.
 * - A management key whose digest is also a client key's is a config error: the one secret would
 *   open both scopes, and "a client key never opens management" must hold by construction.
 *
 * Roles (`admin`, `viewer`) and `allow_remote` are read by the management API itself (operations
 * issue), which does not exist yet; the config loader still refuses `management.enabled: true`.
 */
export function createManagementAuthenticator(
  management: ReadonlyConfig['management'],
  clientKeys: readonly KeyDigest[],
  sourceName: string,
): KeyAuthenticator {
  if (!management.enabled) return createKeyAuthenticator([], 'management-key');
  const digests: KeyDigest[] = management.keys.map((key) => ({ id: key.id, sha256: Buffer.from(key.key_sha256, 'hex') }));
  const clientDigests = new Set(clientKeys.map((key) => key.sha256.toString('hex')));
  const shared = digests.flatMap((key, index) =>
    clientDigests.has(key.sha256.toString('hex')) ? [`management.keys[${index}].key_sha256: is also a client key; a management key must be a secret of its own`] : [],
  );
  if (shared.length > 0) throw new ConfigError(sourceName, shared);
  return createKeyAuthenticator(digests, 'management-key');
}

/**
 * Where a management client puts its key: `Authorization: Bearer` or `X-Management-Key`. Never the
 * query string (`?key=` ends up in proxies' and browsers' logs), and not the client-key headers
 * `x-api-key` / `x-goog-api-key`, so an SDK pointed at the wrong path cannot present a key here.
 * As with client keys, the first place present wins: a wrong Bearer token is not retried against
 * the header.
 */
export function extractManagementKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    return authorization.length > 7 && authorization.slice(0, 7).toLowerCase() === 'bearer ' ? authorization.slice(7).trim() : '';
  }
  const header = headers['x-management-key'];
  return typeof header === 'string' ? header : undefined;
}
