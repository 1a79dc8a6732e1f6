import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import type { LoadedConfig } from '../config/load.js';
import type { OperatorCodeFor } from '../errors/operator-codes.js';
import { withFileLockSync } from '../files/file-lock.js';
import { ensurePrivateDirectorySync } from '../files/private-file.js';
import { keyIdPattern, type ClientKeyPolicyConfig } from '../config/schema.js';
import { readClientKeyFile, storedClientKeyProblems, writeClientKeyFile, type StoredClientKey } from './client-key-file.js';
import { compileKeyPolicy, KeyPolicyError } from './key-policy.js';
import { createKeyAuthenticator, type KeyAuthenticator, type KeyDigest } from './key-authenticator.js';

export { readClientKeyFile, writeClientKeyFile, type StoredClientKey } from './client-key-file.js';


/** Refusals of the key store (duplicate id, bad id, unknown id); the CLI prints the message and the code. */
export class ClientKeyError extends Error {
  override readonly name = 'ClientKeyError';

  constructor(
    /** Catalog code (docs/errors.md, operator errors). */
    readonly code: OperatorCodeFor<'ClientKeyError'>,
    message: string,
  ) {
    super(message);
  }
}

/** A client key ready for authentication: its id and the 32-byte SHA-256 of the key. */
export type ClientKeyDigest = KeyDigest;

/**
 * A new client key: `cpa_` + base64url of 32 random bytes (256 bits). The prefix makes leaked keys
 * easy to recognise in secret scanners and logs.
 */
export function generateClientKey(): string {
  return `cpa_${randomBytes(32).toString('base64url')}`;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The governance fields `keys create|update` and the management API accept (docs/keys.md). In an
 * update, `null` removes a field; absent leaves it as it is.
 */
export type ClientKeyFields = { -readonly [Field in keyof ClientKeyPolicyConfig]?: ClientKeyPolicyConfig[Field] | null };

const policyFieldNames = ['models', 'providers', 'expires_at', 'disabled', 'rate_limit', 'max_concurrency', 'concurrency_wait_ms', 'budgets', 'metadata'] as const;

/** Applies `changes` to `entry` (null removes a field), then checks the whole entry: schema and policy compile. */
function withFields(entry: StoredClientKey, changes: ClientKeyFields): StoredClientKey {
  const next: Record<string, unknown> = { ...entry };
  for (const name of Object.keys(changes)) {
    if (!(policyFieldNames as readonly string[]).includes(name)) throw new ClientKeyError('CLIENT_KEY_INVALID_FIELDS', `unknown client key field '${name}'; known: ${policyFieldNames.join(', ')}`);
    const value = (changes as Record<string, unknown>)[name];
    if (value === null) delete next[name];
    else if (value !== undefined) next[name] = value;
  }
  const problems = storedClientKeyProblems(next);
  if (problems.length > 0) throw new ClientKeyError('CLIENT_KEY_INVALID_FIELDS', `invalid fields for client key '${entry.id}': ${problems.join('; ')}`);
  try {
    compileKeyPolicy(entry.id, next);
  } catch (error) {
    if (error instanceof KeyPolicyError) throw new ClientKeyError('CLIENT_KEY_INVALID_FIELDS', error.message);
    throw error;
  }
  return next as StoredClientKey;
}

function checkId(id: string): void {
  if (!keyIdPattern.test(id)) {
    throw new ClientKeyError('CLIENT_KEY_INVALID_ID', `invalid key id '${id}': use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}

/**
 * Creates a key `id` in the key file, with its governance fields, and returns the key: the only
 * time it exists in clear. Ids are unique across the config's `auth.api_keys` and the file, so
 * audit records stay unambiguous. A running server applies it through the key file's reload.
 */
export function createClientKey(loaded: LoadedConfig, id: string, fields: ClientKeyFields = {}): { id: string; key: string } {
  checkId(id);
  const file = loaded.config.auth.client_keys_file;
  if (loaded.config.auth.api_keys.some((key) => key.id === id)) throw new ClientKeyError('CLIENT_KEY_DUPLICATE_ID', `a client key with id '${id}' is defined in the config file`);
  // Read, add and write under the file's lock: a concurrent create or revoke cannot interleave.
  return withFileLockSync(file, () => {
    const stored = readClientKeyFile(file);
    if (stored.some((key) => key.id === id)) throw new ClientKeyError('CLIENT_KEY_DUPLICATE_ID', `a client key with id '${id}' already exists in ${file}`);
    const key = generateClientKey();
    const entry = withFields({ id, key_sha256: sha256(key).toString('hex'), created_at: new Date().toISOString() }, fields);
    writeClientKeyFile(file, [...stored, entry]);
    return { id, key };
  });
}

/**
 * Changes the governance fields of key `id` in the key file (the key itself stays). A key defined
 * in the config is 'in-config' and left alone, like revokeClientKey: the config file is the operator's.
 */
export function updateClientKey(loaded: LoadedConfig, id: string, changes: ClientKeyFields): 'updated' | 'in-config' | 'not-found' {
  if (loaded.config.auth.api_keys.some((key) => key.id === id)) return 'in-config';
  const file = loaded.config.auth.client_keys_file;
  return withFileLockSync(file, () => {
    const stored = readClientKeyFile(file);
    const index = stored.findIndex((key) => key.id === id);
    if (index === -1) return 'not-found';
    const updated = { ...withFields(stored[index]!, changes), updated_at: new Date().toISOString() };
    writeClientKeyFile(file, stored.map((key, position) => (position === index ? updated : key)));
    return 'updated';
  });
}

/**
 * Removes key `id` from the key file. A key defined in the config file is reported as 'in-config'
 * and left alone: the file is the operator's, and the CLI tells them to edit it.
 */
export function revokeClientKey(loaded: LoadedConfig, id: string): 'revoked' | 'in-config' | 'not-found' {
  if (loaded.config.auth.api_keys.some((key) => key.id === id)) return 'in-config';
  const file = loaded.config.auth.client_keys_file;
  return withFileLockSync(file, () => {
    const stored = readClientKeyFile(file);
    const remaining = stored.filter((key) => key.id !== id);
    if (remaining.length === stored.length) return 'not-found';
    writeClientKeyFile(file, remaining);
    return 'revoked';
  });
}

/** One key as `keys list` and `GET /v0/management/api-keys` show it: its fields, never a hash or a key. */
export interface ClientKeyListing extends ClientKeyFieldsShown {
  id: string;
  source: 'config' | 'file';
  created_at?: string;
  updated_at?: string;
  /** `active`, `expired` (expires_at passed) or `disabled`. */
  status: 'active' | 'expired' | 'disabled';
}

type ClientKeyFieldsShown = { -readonly [Field in keyof ClientKeyPolicyConfig]?: ClientKeyPolicyConfig[Field] };

function shownFields(key: ClientKeyPolicyConfig): ClientKeyFieldsShown {
  const shown: Record<string, unknown> = {};
  for (const name of policyFieldNames) if (key[name] !== undefined) shown[name] = key[name];
  return shown;
}

function statusOf(key: ClientKeyPolicyConfig, now: number): ClientKeyListing['status'] {
  if (key.disabled === true) return 'disabled';
  if (key.expires_at !== undefined && Date.parse(key.expires_at) <= now) return 'expired';
  return 'active';
}

/** Every client key with where it is defined, its scope, expiry, limits and status. Never hashes or keys: safe to print. */
export function listClientKeys(loaded: LoadedConfig, now: number = Date.now()): ClientKeyListing[] {
  const fromConfig = loaded.config.auth.api_keys.map((key): ClientKeyListing => ({ id: key.id, source: 'config', status: statusOf(key, now), ...shownFields(key) }));
  const fromFile = readClientKeyFile(loaded.config.auth.client_keys_file).map(
    (key): ClientKeyListing => ({
      id: key.id,
      source: 'file',
      created_at: key.created_at,
      ...(key.updated_at === undefined ? {} : { updated_at: key.updated_at }),
      status: statusOf(key, now),
      ...shownFields(key),
    }),
  );
  return [...fromConfig, ...fromFile];
}

/**
 * First start: with no client key in the config and no key file, creates the key file's directory
 * (0700) and a key `default`, and returns it so the caller prints it once. Secure by default: the
 * proxy never runs open. An existing key file, even with every key revoked, is left as it is: an
 * empty file means the operator locked the proxy on purpose.
 */
export function ensureInitialClientKey(loaded: LoadedConfig): { id: string; key: string } | undefined {
  const file = loaded.config.auth.client_keys_file;
  if (loaded.config.auth.api_keys.length > 0 || existsSync(file)) return undefined;
  ensurePrivateDirectorySync(dirname(file));
  return createClientKey(loaded, 'default');
}

/**
 * Keys from both sources: `auth.api_keys` (hashes as given, plain keys hashed here) and the key file.
 * An id present in both is a ConfigError: an audit record's key id must name exactly one key.
 */
export function collectClientKeys(loaded: LoadedConfig): ClientKeyDigest[] {
  const problems: string[] = [];
  // Each key's policy is compiled here, once per load or reload; a field the schema cannot judge
  // (a date that does not exist) is a problem naming the key, and a reload with one keeps the running keys.
  const policyOf = (key: ClientKeyPolicyConfig & { id: string }): ClientKeyDigest['policy'] => {
    try {
      return compileKeyPolicy(key.id, key);
    } catch (error) {
      if (!(error instanceof KeyPolicyError)) throw error;
      problems.push(error.message);
      return undefined;
    }
  };
  const keys: ClientKeyDigest[] = loaded.config.auth.api_keys.map((key) => ({
    id: key.id,
    sha256: 'key_sha256' in key ? Buffer.from(key.key_sha256, 'hex') : sha256(key.key),
    policy: policyOf(key),
  }));
  const configIds = new Set(keys.map((key) => key.id));
  const file = loaded.config.auth.client_keys_file;
  for (const stored of readClientKeyFile(file)) {
    if (configIds.has(stored.id)) problems.push(`client key id '${stored.id}' is defined both in the config and in ${file}`);
    keys.push({ id: stored.id, sha256: Buffer.from(stored.key_sha256, 'hex'), policy: policyOf(stored) });
  }
  if (problems.length > 0) throw new ConfigError(loaded.configPath ?? '(embedded default)', problems);
  return keys;
}

/** Checks a presented client key; its principals have source `client-key`. */
export type ClientKeyAuthenticator = KeyAuthenticator;

/** The client API's authenticator (key-authenticator.ts: constant-time over every digest). */
export function createClientKeyAuthenticator(keys: readonly ClientKeyDigest[]): ClientKeyAuthenticator {
  return createKeyAuthenticator(keys, 'client-key');
}
