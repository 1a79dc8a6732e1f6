import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../config/config-error.js';
import { writePrivateFileSync } from '../files/private-file.js';
import { FileReadError, readRegularFileSync, type RegularFileContent } from '../files/read-file.js';
import { secretPathProblems } from '../files/secret-path-check.js';

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
 * Reads the client key file, at start and on every reload. Missing file → no keys (first start).
 * It decides who may use the proxy, so it is held to the rule of the other secret files: a regular
 * file (not a symlink, not a FIFO), mode 0600, owned by the proxy's uid (or root), checked on the
 * descriptor that is read (no check-then-read race); its directory owned by us (or root) and not
 * writable by others, who could otherwise rename their own file over it. Anything else is a
 * ConfigError naming the file and the rule, never a key or hash: a reload that hits one keeps the
 * running keys.
 */
export function readClientKeyFile(path: string): StoredClientKey[] {
  let read: RegularFileContent;
  try {
    read = readRegularFileSync(path, { maxBytes: maxKeyFileBytes });
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    if (error.reason === 'missing') return [];
    const unsafe = error.reason === 'symlink' || error.reason === 'not-regular';
    throw new ConfigError(path, [`client key file ${error.problem}`], unsafe ? 'CLIENT_KEY_FILE_UNSAFE' : 'CLIENT_KEY_FILE_INVALID');
  }
  const directory = dirname(path);
  const unsafe = [
    ...secretPathProblems(path, read.stats, 'file').map((problem) => `client key file ${problem.problem}; fix: ${problem.fix}`),
    ...secretPathProblems(directory, statSync(directory), 'containing-directory').map((problem) => `${directory} (the client key file's directory) ${problem.problem}; fix: ${problem.fix}`),
  ];
  if (unsafe.length > 0) throw new ConfigError(path, unsafe, 'CLIENT_KEY_FILE_UNSAFE');
  const text = read.content.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(path, ['client key file is not valid JSON'], 'CLIENT_KEY_FILE_INVALID');
  }
  if (!Value.Check(ClientKeyFileSchema, parsed)) {
    const problems = [...Value.Errors(ClientKeyFileSchema, parsed)].slice(0, 20).map((error) => `${error.path || '(top level)'}: ${error.message}`);
    throw new ConfigError(path, ['client key file does not have the expected shape { "v": 1, "keys": [...] }', ...problems], 'CLIENT_KEY_FILE_INVALID');
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
