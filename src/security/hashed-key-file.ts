import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../config/config-error.js';
import type { OperatorCodeFor } from '../errors/operator-codes.js';
import { FileReadError, readRegularFileSync, type RegularFileContent } from '../files/read-file.js';
import { secretReadPath } from '../files/read-only-mount.js';
import { secretPathProblems } from '../files/secret-path-check.js';

/** Longest key file read: 10,000 keys fit in about 1.5 MB; anything larger is not ours. 4 MiB. */
const maxKeyFileBytes = 4 * 1_048_576;

export interface HashedKeyFileRules {
  /** `client key file`, `management key file`: the words every problem starts with. */
  readonly label: string;
  /** `{ "v": 1, "keys": [...] }` with the entry schema of this file. */
  readonly schema: TObject;
  readonly codes: { readonly unsafe: OperatorCodeFor<'ConfigError'>; readonly invalid: OperatorCodeFor<'ConfigError'> };
}

/**
 * Reads a file of key hashes (the client key file, the management key file), at start and on every
 * reload. Missing file → undefined (first start). Such a file decides who may use the proxy or
 * manage it, so it is held to the rule of the other secret files: a regular file (not a symlink,
 * not a FIFO), mode 0600, owned by the proxy's uid (or root), checked on the descriptor that is
 * read (no check-then-read race); its directory owned by us (or root) and not writable by others,
 * who could otherwise rename their own file over it. Anything else is a ConfigError naming the
 * file and the rule, never a key or hash: a reload that hits one keeps the running keys.
 */
export function readHashedKeyFile(path: string, rules: HashedKeyFileRules): unknown {
  const { label, codes } = rules;
  let read: RegularFileContent;
  try {
    // On a read-only mount in the orchestrator's shape (a Secret volume's ..data links) the target is
    // read; anywhere else a symlink is refused by the no-follow open (files/read-only-mount.ts).
    read = readRegularFileSync(secretReadPath(path), { maxBytes: maxKeyFileBytes });
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    if (error.reason === 'missing') return undefined;
    const unsafe = error.reason === 'symlink' || error.reason === 'not-regular';
    throw new ConfigError(path, [`${label} ${error.problem}`], unsafe ? codes.unsafe : codes.invalid);
  }
  const directory = dirname(path);
  const unsafe = [
    ...secretPathProblems(secretReadPath(path), read.stats, 'file').map((problem) => `${label} ${problem.problem}; fix: ${problem.fix}`),
    ...secretPathProblems(directory, statSync(directory), 'containing-directory').map((problem) => `${directory} (the ${label}'s directory) ${problem.problem}; fix: ${problem.fix}`),
  ];
  if (unsafe.length > 0) throw new ConfigError(path, unsafe, codes.unsafe);
  let parsed: unknown;
  try {
    parsed = JSON.parse(read.content.toString('utf8'));
  } catch {
    throw new ConfigError(path, [`${label} is not valid JSON`], codes.invalid);
  }
  if (!Value.Check(rules.schema, parsed)) {
    const problems = [...Value.Errors(rules.schema, parsed)].slice(0, 20).map((error) => `${error.path || '(top level)'}${entryName(parsed, error.path)}: ${error.message}`);
    throw new ConfigError(path, [`${label} does not have the expected shape { "v": 1, "keys": [...] }`, ...problems], codes.invalid);
  }
  return parsed;
}

/** ` (key 'alice')` for a problem inside `/keys/N` whose entry has a well-formed id, so the operator finds the entry. */
function entryName(parsed: unknown, path: string): string {
  const match = /^\/keys\/([0-9]+)/.exec(path);
  if (match === null) return '';
  const entry = (parsed as { keys?: unknown[] } | null)?.keys?.[Number(match[1])] as { id?: unknown } | undefined;
  const id = entry?.id;
  return typeof id === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id) ? ` (key '${id}')` : '';
}
