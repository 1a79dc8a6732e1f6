import type { IncomingHttpHeaders } from 'node:http';
import { ConfigError } from '../config/config-error.js';
import type { ReadonlyConfig } from '../config/schema.js';
import { createKeyAuthenticator, type KeyAuthenticator, type KeyDigest } from './key-authenticator.js';
import { normaliseRole, readManagementKeyFile } from './management-key-file.js';

/**
 * The management scope's authenticator (`/v0/management/*`, `/metrics`): its own keys (from
 * `management.keys` and `management.keys_file`, SHA-256 digests, each with its role), never the
 * client keys. Built once per config (re)load.
 *
 * - `management.enabled: false` (the default) gives an authenticator with no keys: every request
 *   to the scope is refused with 401, whatever it carries, so a disabled management API answers
 *   the same to everyone and reveals nothing about its routes.
 * - A management key whose digest is also a client key's is a config error: the one secret would
 *   open both scopes, and "a client key never opens management" must hold by construction.
 * - An id in both the config and the file is a config error: an audit record's actor must name
 *   exactly one key.
 */
export function createManagementAuthenticator(
  management: ReadonlyConfig['management'],
  clientKeys: readonly KeyDigest[],
  sourceName: string,
): KeyAuthenticator {
  if (!management.enabled) return createKeyAuthenticator([], 'management-key');
  const digests: KeyDigest[] = management.keys.map((key) => ({ id: key.id, role: normaliseRole(key.role), sha256: Buffer.from(key.key_sha256, 'hex') }));
  const problems: string[] = [];
  const configIds = new Set(digests.map((key) => key.id));
  for (const stored of readManagementKeyFile(management.keys_file)) {
    if (configIds.has(stored.id)) problems.push(`management key id '${stored.id}' is defined both in management.keys and in ${management.keys_file}`);
    digests.push({ id: stored.id, role: stored.role, sha256: Buffer.from(stored.key_sha256, 'hex') });
  }
  const clientDigests = new Set(clientKeys.map((key) => key.sha256.toString('hex')));
  digests.forEach((key, index) => {
    if (!clientDigests.has(key.sha256.toString('hex'))) return;
    const place = index < management.keys.length ? `management.keys[${index}].key_sha256` : `management key '${key.id}' in ${management.keys_file}`;
    problems.push(`${place}: is also a client key; a management key must be a secret of its own`);
  });
  if (problems.length > 0) throw new ConfigError(sourceName, problems);
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
