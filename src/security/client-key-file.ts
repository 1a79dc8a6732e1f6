import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../config/config-error.js';
import { writePrivateFileSync } from '../files/private-file.js';

/** Longest key file read: 10,000 keys fit in about 1.5 MB; anything larger is not ours. 4 MiB. */
const maxKeyFileBytes = 4 * 1_048_576;

const StoredClientKeySchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }),
    key_sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    created_at: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

const ClientKeyFileSchema = Type.Object(
  { v: Type.Literal(1), keys: Type.Array(StoredClientKeySchema) },
  { additionalProperties: false },
);

/** One client key as stored: the hash only. The key itself is shown once at creation and never kept. */
export type StoredClientKey = Static<typeof StoredClientKeySchema>;

/**
 * Reads the client key file. Missing file → no keys (first start). Anything else unexpected (bad
 * JSON, wrong shape, group- or world-writable file) is a ConfigError naming the file: a key file
 * someone else can write is a key file someone else can add keys to, so it fails closed.
 */
export function readClientKeyFile(path: string): StoredClientKey[] {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(path, [`cannot read the client key file (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`]);
  }
  let text: string;
  try {
    const stats = fstatSync(descriptor);
    if (process.platform !== 'win32' && (stats.mode & 0o022) !== 0) {
      throw new ConfigError(path, [`client key file is writable by group or others (mode ${(stats.mode & 0o777).toString(8)}); run chmod 600`]);
    }
    if (stats.size > maxKeyFileBytes) throw new ConfigError(path, [`client key file is larger than ${maxKeyFileBytes} bytes`]);
    text = readFileSync(descriptor, 'utf8');
  } finally {
    closeSync(descriptor);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(path, ['client key file is not valid JSON']);
  }
  if (!Value.Check(ClientKeyFileSchema, parsed)) {
    const problems = [...Value.Errors(ClientKeyFileSchema, parsed)].slice(0, 20).map((error) => `${error.path || '(top level)'}: ${error.message}`);
    throw new ConfigError(path, ['client key file does not have the expected shape { "v": 1, "keys": [...] }', ...problems]);
  }
  return parsed.keys.map((key) => ({ id: key.id, key_sha256: key.key_sha256, created_at: key.created_at }));
}

/**
 * Writes the key file atomically with mode 0600 in a directory of mode 0700 (files/private-file.ts):
 * a crash leaves either the old or the new file, never a truncated one that would lock every client
 * out (or a half-written hash).
 */
export function writeClientKeyFile(path: string, keys: readonly StoredClientKey[]): void {
  writePrivateFileSync(path, `${JSON.stringify({ v: 1, keys }, null, 2)}\n`);
}
