import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ClientKeyPolicyFields, KeyId } from '../config/schema.js';
import { writePrivateFileSync } from '../files/private-file.js';
import { readHashedKeyFile } from './hashed-key-file.js';

const StoredClientKeySchema = Type.Object(
  {
    id: KeyId,
    key_sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    created_at: Type.String({ minLength: 1 }),
    /** Last `keys update` (RFC 3339); absent until the key is first updated. */
    updated_at: Type.Optional(Type.String({ minLength: 1 })),
    // The governance fields, as in auth.api_keys (config/schema.ts): the same schema for both sources.
    ...ClientKeyPolicyFields,
  },
  { additionalProperties: false },
);

const ClientKeyFileSchema = Type.Object(
  { v: Type.Literal(1), keys: Type.Array(StoredClientKeySchema) },
  { additionalProperties: false },
);

/** One client key as stored: the hash only. The key itself is shown once at creation and never kept. */
export type StoredClientKey = Static<typeof StoredClientKeySchema>;

/** Schema problems of one entry about to be written (`keys create|update`, the management API), one line each. */
export function storedClientKeyProblems(entry: unknown): string[] {
  if (Value.Check(StoredClientKeySchema, entry)) return [];
  return [...Value.Errors(StoredClientKeySchema, entry)].slice(0, 20).map((error) => `${error.path.slice(1) || '(entry)'}: ${error.message}`);
}

/**
 * Reads the client key file, at start and on every reload (hashed-key-file.ts: the secret-file rules,
 * ConfigError with CLIENT_KEY_FILE_UNSAFE / CLIENT_KEY_FILE_INVALID). Missing file → no keys (first start).
 */
export function readClientKeyFile(path: string): StoredClientKey[] {
  const parsed = readHashedKeyFile(path, { label: 'client key file', schema: ClientKeyFileSchema, codes: { unsafe: 'CLIENT_KEY_FILE_UNSAFE', invalid: 'CLIENT_KEY_FILE_INVALID' } }) as Static<typeof ClientKeyFileSchema> | undefined;
  if (parsed === undefined) return [];
  return parsed.keys;
}

/**
 * Writes the key file atomically with mode 0600 in a directory of mode 0700 (files/private-file.ts):
 * a crash leaves either the old or the new file, never a truncated one that would lock every client
 * out (or a half-written hash).
 */
export function writeClientKeyFile(path: string, keys: readonly StoredClientKey[]): void {
  writePrivateFileSync(path, `${JSON.stringify({ v: 1, keys }, null, 2)}\n`);
}
