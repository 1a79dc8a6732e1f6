import { createHash, randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { KeyId, keyIdPattern, type ReadonlyConfig } from '../config/schema.js';
import type { OperatorCodeFor } from '../errors/operator-codes.js';
import { withFileLockSync } from '../files/file-lock.js';
import { writePrivateFileSync } from '../files/private-file.js';
import { readHashedKeyFile } from './hashed-key-file.js';
import type { ManagementRole } from './principal.js';

/**
 * The management key file (`management.keys_file`, 0600 in a 0700 directory): what
 * `cliproxyapi management-keys create` writes, like the client key file for client keys. Hashes
 * only; a key is printed once at creation and never stored. The server reads it at start and on
 * every reload, beside `management.keys` in the config.
 */
const roles: readonly ManagementRole[] = ['admin', 'operator', 'auditor'];

const StoredManagementKeySchema = Type.Object(
  {
    id: KeyId,
    role: Type.Union(roles.map((role) => Type.Literal(role))),
    key_sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    created_at: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
const ManagementKeyFileSchema = Type.Object({ v: Type.Literal(1), keys: Type.Array(StoredManagementKeySchema) }, { additionalProperties: false });

export type StoredManagementKey = Static<typeof StoredManagementKeySchema>;

/** Refusals of the management key store; the CLI prints the message and the code. */
export class ManagementKeyError extends Error {
  override readonly name = 'ManagementKeyError';

  constructor(
    /** Catalog code (docs/errors.md, operator errors). */
    readonly code: OperatorCodeFor<'ManagementKeyError'>,
    message: string,
  ) {
    super(message);
  }
}

/** Missing file → no keys. Unsafe or malformed → ConfigError (MANAGEMENT_KEY_FILE_UNSAFE / _INVALID). */
export function readManagementKeyFile(path: string): StoredManagementKey[] {
  const parsed = readHashedKeyFile(path, {
    label: 'management key file',
    schema: ManagementKeyFileSchema,
    codes: { unsafe: 'MANAGEMENT_KEY_FILE_UNSAFE', invalid: 'MANAGEMENT_KEY_FILE_INVALID' },
  }) as Static<typeof ManagementKeyFileSchema> | undefined;
  return parsed === undefined ? [] : parsed.keys.map((key) => ({ id: key.id, role: key.role, key_sha256: key.key_sha256, created_at: key.created_at }));
}

function writeManagementKeyFile(path: string, keys: readonly StoredManagementKey[]): void {
  writePrivateFileSync(path, `${JSON.stringify({ v: 1, keys }, null, 2)}\n`);
}

/**
 * A new management key: `cpm_` + base64url of 32 random bytes (256 bits). Its own prefix, not the
 * client keys' `cpa_`: a secret scanner, a log reader and an operator tell the two apart at a glance.
 */
export function generateManagementKey(): string {
  return `cpm_${randomBytes(32).toString('base64url')}`;
}

export function isManagementRole(value: string): value is ManagementRole {
  return (roles as readonly string[]).includes(value);
}

/**
 * Creates management key `id` with `role` in the key file (under its lock) and returns the key: the
 * only time it exists in clear. Ids are unique across `management.keys` and the file.
 */
export function createManagementKey(management: ReadonlyConfig['management'], id: string, role: string): { id: string; role: ManagementRole; key: string } {
  if (!keyIdPattern.test(id)) {
    throw new ManagementKeyError('MANAGEMENT_KEY_INVALID_ID', `invalid key id '${id}': use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  if (!isManagementRole(role)) throw new ManagementKeyError('MANAGEMENT_KEY_INVALID_ROLE', `invalid role '${role}': use admin, operator or auditor`);
  if (management.keys.some((key) => key.id === id)) throw new ManagementKeyError('MANAGEMENT_KEY_DUPLICATE_ID', `a management key with id '${id}' is defined in the config file`);
  const file = management.keys_file;
  return withFileLockSync(file, () => {
    const stored = readManagementKeyFile(file);
    if (stored.some((key) => key.id === id)) throw new ManagementKeyError('MANAGEMENT_KEY_DUPLICATE_ID', `a management key with id '${id}' already exists in ${file}`);
    const key = generateManagementKey();
    const sha256 = createHash('sha256').update(key, 'utf8').digest('hex');
    writeManagementKeyFile(file, [...stored, { id, role, key_sha256: sha256, created_at: new Date().toISOString() }]);
    return { id, role, key };
  });
}

/** Removes key `id` from the key file; a key of `management.keys` is the operator's file to edit. */
export function revokeManagementKey(management: ReadonlyConfig['management'], id: string): 'revoked' | 'in-config' | 'not-found' {
  if (management.keys.some((key) => key.id === id)) return 'in-config';
  const file = management.keys_file;
  return withFileLockSync(file, () => {
    const stored = readManagementKeyFile(file);
    const remaining = stored.filter((key) => key.id !== id);
    if (remaining.length === stored.length) return 'not-found';
    writeManagementKeyFile(file, remaining);
    return 'revoked';
  });
}

/** Every management key id with its role and where it is defined. Never hashes or keys. */
export function listManagementKeys(management: ReadonlyConfig['management']): { id: string; role: ManagementRole; source: 'config' | 'file'; created_at?: string }[] {
  return [
    ...management.keys.map((key) => ({ id: key.id, role: normaliseRole(key.role), source: 'config' as const })),
    ...readManagementKeyFile(management.keys_file).map((key) => ({ id: key.id, role: key.role, source: 'file' as const, created_at: key.created_at })),
  ];
}

/** The config's `viewer` (the seed's name) is `auditor`; the loader warns about it. */
export function normaliseRole(role: ManagementRole | 'viewer'): ManagementRole {
  return role === 'viewer' ? 'auditor' : role;
}
