import { createHash, randomBytes } from 'node:crypto';
import { isPlaceholderSecret } from '../config/placeholders.js';
import { encryptionKeyBytes } from './crypto.js';
import { writePrivateFile } from '../files/private-file.js';
import { readRegularFile } from '../files/read-file.js';
import { readOnlyMountProblemsForStats, secretReadPath } from '../files/read-only-mount.js';

/**
 * The keyring: every key credential files may be encrypted under, by key id (`kid`).
 *
 * Key file format (auth.encryption.key_file, mode 0600), JSON, keys oldest first:
 *   { "v": 1, "keys": [ { "kid": "k-3f9a…", "key": "<base64 of 32 bytes>", "created_at": "<ISO 8601>" } ] }
 * New writes use the LAST key. A file holding one bare base64 line (`openssl rand -base64 32`) is a
 * keyring of one key. The env variable and the config key are always a single key.
 *
 * Key bytes stay in Buffers (never converted to strings after parsing) so `destroy()` can zero them.
 */
export interface KeyringKey {
  kid: string;
  key: Buffer;
  created_at: string;
}

export type KeySource = 'env' | 'key_file' | 'config';

export class Keyring {
  readonly keys: readonly KeyringKey[];
  readonly source: KeySource;

  constructor(keys: readonly KeyringKey[], source: KeySource) {
    if (keys.length === 0) throw new Error('a keyring needs at least one key');
    const kids = new Set(keys.map((entry) => entry.kid));
    if (kids.size !== keys.length) throw new Error('the keyring holds two keys with the same kid');
    this.keys = keys;
    this.source = source;
  }

  /** The key new writes use: the last one added. */
  newest(): KeyringKey {
    const last = this.keys[this.keys.length - 1];
    if (last === undefined) throw new Error('empty keyring');
    return last;
  }

  keyFor(kid: string): Buffer | undefined {
    return this.keys.find((entry) => entry.kid === kid)?.key;
  }

  /** Zero-fills every key. Call when the keyring is replaced (after a rotation) or at shutdown. */
  destroy(): void {
    for (const entry of this.keys) entry.key.fill(0);
  }
}

/** How to make a good key; appended to every refusal so the operator knows the next step. */
export const keygenAdvice =
  'Make one with `cliproxyapi encryption keygen` (writes auth.encryption.key_file, mode 0600), or `openssl rand -base64 32` for CLIPROXY_ENCRYPTION_KEY.';

/** Fewer distinct byte values than this in 32 bytes is not random: a 32-byte random key has ~30. */
const minimumDistinctBytes = 16;
const strictBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Key files are tiny; a keyring of a thousand keys is ~100 KB. 1 MiB. */
const maxKeyFileBytes = 1_048_576;

/** Stable id of a key: a truncated hash, so the same bytes get the same kid from any source. 48 bits reveal nothing usable. */
export function kidFor(key: Buffer): string {
  return `k-${createHash('sha256').update('cliproxyapi-kid\0').update(key).digest('hex').slice(0, 12)}`;
}

/**
 * Parses and validates key text from `sourceName`. Refuses the docs placeholder, anything that is
 * not 32 bytes, and low-entropy keys (one repeated byte, a short pattern repeated). `allowRaw`
 * accepts the seed's 32-character plain string form (config key only).
 */
export function parseKeyText(text: string, sourceName: string, options: { allowRaw?: boolean } = {}): Buffer {
  const trimmed = text.trim();
  if (trimmed === '' || isPlaceholderSecret(trimmed) || trimmed.toUpperCase() === 'YOUR_32_BYTE_ENCRYPTION_KEY_HERE') {
    throw new Error(`${sourceName}: the encryption key is empty or a documentation placeholder. ${keygenAdvice}`);
  }
  let key: Buffer;
  if (strictBase64.test(trimmed) && Buffer.from(trimmed, 'base64').length === encryptionKeyBytes) {
    key = Buffer.from(trimmed, 'base64');
  } else if (options.allowRaw === true && Buffer.byteLength(trimmed, 'utf8') === encryptionKeyBytes) {
    key = Buffer.from(trimmed, 'utf8');
  } else {
    throw new Error(`${sourceName}: the encryption key must be ${encryptionKeyBytes} random bytes, base64-encoded (44 characters). ${keygenAdvice}`);
  }
  if (new Set(key).size < minimumDistinctBytes) {
    key.fill(0);
    throw new Error(`${sourceName}: the encryption key has too little entropy (too few distinct bytes); it is not random. ${keygenAdvice}`);
  }
  return key;
}

/** A new random key with its kid. */
export function generateKey(now: Date = new Date()): KeyringKey {
  const key = randomBytes(encryptionKeyBytes);
  return { kid: kidFor(key), key, created_at: now.toISOString() };
}

/**
 * Reads a key file: JSON keyring or one bare base64 key. The file must be a regular file (not a
 * symlink) readable by its owner only; a group- or world-readable key file is refused with the chmod.
 */
export async function readKeyFile(path: string): Promise<Keyring> {
  // A key file mounted from an orchestrator's Secret (symlinks inside a read-only mount) is read at its target.
  const target = secretReadPath(path);
  const { content, stats } = await readRegularFile(target, { maxBytes: maxKeyFileBytes });
  const mode = stats.mode & 0o777;
  try {
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      // Group read is refused, except on a read-only mount in the orchestrator's shape (files/read-only-mount.ts).
      const mounted = readOnlyMountProblemsForStats(target, stats, 'file');
      if (mounted === undefined) throw new Error(`${path}: key file mode ${mode.toString(8).padStart(4, '0')} lets group or others read it; fix: chmod 600 ${path}`);
      if (mounted.length > 0) throw new Error(`${path}: key file ${mounted.map((problem) => `${problem.problem}; fix: ${problem.fix}`).join('; ')}`);
    }
    const text = content.toString('utf8').trim();
    if (!text.startsWith('{')) {
      const key = parseKeyText(text, path);
      return new Keyring([{ kid: kidFor(key), key, created_at: '' }], 'key_file');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${path}: key file is neither a base64 key nor valid keyring JSON. ${keygenAdvice}`);
    }
    return new Keyring(parseKeyringJson(parsed, path), 'key_file');
  } finally {
    content.fill(0);
  }
}

function parseKeyringJson(parsed: unknown, path: string): KeyringKey[] {
  const shapeError = new Error(`${path}: key file must be { "v": 1, "keys": [ { "kid", "key", "created_at" } ] }. ${keygenAdvice}`);
  if (typeof parsed !== 'object' || parsed === null) throw shapeError;
  const { v, keys } = parsed as { v?: unknown; keys?: unknown };
  if (v !== 1 || !Array.isArray(keys) || keys.length === 0) throw shapeError;
  return keys.map((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null) throw shapeError;
    const { kid, key, created_at: createdAt } = entry as Record<string, unknown>;
    if (typeof kid !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(kid) || typeof key !== 'string') throw shapeError;
    return { kid, key: parseKeyText(key, `${path} keys[${index}]`), created_at: typeof createdAt === 'string' ? createdAt : '' };
  });
}

/** Writes the keyring atomically (temp 0600, fsync, rename, fsync dir). Key text is built in a Buffer and zeroed. */
export async function writeKeyFile(path: string, keys: readonly KeyringKey[]): Promise<void> {
  const serialized = Buffer.from(
    `${JSON.stringify({ v: 1, keys: keys.map((entry) => ({ kid: entry.kid, key: entry.key.toString('base64'), created_at: entry.created_at })) }, null, 2)}\n`,
    'utf8',
  );
  try {
    await writePrivateFile(path, serialized);
  } finally {
    serialized.fill(0);
  }
}

/** Where the key comes from, first match wins: env, key file, config (with a warning). */
export interface KeySourceInput {
  env: Readonly<Record<string, string | undefined>>;
  keyFile: string;
  keyFileExists: boolean;
  configKey: string | undefined;
}

/**
 * Loads the keyring from the first source present. Returns undefined when there is none (first
 * start: the caller decides whether to generate a key file). Warnings name ignored sources.
 */
export async function loadKeyring(input: KeySourceInput): Promise<{ keyring: Keyring; warnings: string[] } | undefined> {
  const warnings: string[] = [];
  const fromEnv = input.env['CLIPROXY_ENCRYPTION_KEY'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const key = parseKeyText(fromEnv, 'CLIPROXY_ENCRYPTION_KEY');
    if (input.keyFileExists) warnings.push(`CLIPROXY_ENCRYPTION_KEY is set, so the key file ${input.keyFile} is not used`);
    return { keyring: new Keyring([{ kid: kidFor(key), key, created_at: '' }], 'env'), warnings };
  }
  if (input.keyFileExists) return { keyring: await readKeyFile(input.keyFile), warnings };
  if (input.configKey !== undefined) {
    const key = parseKeyText(input.configKey, 'auth.encryption.key', { allowRaw: true });
    warnings.push(
      'auth.encryption.key: the encryption key is in the config file, next to what it protects; move it to auth.encryption.key_file (mode 0600) or CLIPROXY_ENCRYPTION_KEY',
    );
    return { keyring: new Keyring([{ kid: kidFor(key), key, created_at: '' }], 'config'), warnings };
  }
  return undefined;
}
