import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { OperatorCodeFor } from '../errors/operator-codes.js';

/**
 * The AES-256-GCM envelope of a credential file (DESIGN.md "Stored formats"):
 * `{ "v":1, "provider", "kid", "alg":"A256GCM", "iv", "ct", "tag" }`, binary fields base64.
 *
 * - A fresh random 96-bit IV per write: GCM with a repeated (key, IV) pair leaks the XOR of two
 *   plaintexts and the authentication key, so IVs are never derived or counted.
 * - The credential id and provider are the additional authenticated data. `provider` is the one
 *   plain field beside the envelope (the store needs it to rebuild the AAD and `list()` shows it for
 *   a file it cannot decrypt); editing it, renaming the file or copying it to another id makes the
 *   tag check fail, so a credential cannot be moved to another provider or account by hand.
 */
export interface CredentialEnvelope {
  v: 1;
  /** Plain metadata, authenticated through the AAD. */
  provider: string;
  kid: string;
  alg: 'A256GCM';
  iv: string;
  ct: string;
  tag: string;
}

/** Key length of AES-256, in bytes. */
export const encryptionKeyBytes = 32;
/** GCM nonce length recommended by NIST SP 800-38D, in bytes (96 bits). */
export const ivBytes = 12;
/** Full 128-bit tags only: truncated tags weaken forgery resistance. */
const tagBytes = 16;

const credentialFileCodes = {
  'tampered-or-moved': 'CREDENTIAL_FILE_TAMPERED_OR_MOVED',
  'unknown-key': 'CREDENTIAL_FILE_UNKNOWN_KEY',
  malformed: 'CREDENTIAL_FILE_MALFORMED',
  unreadable: 'CREDENTIAL_FILE_UNREADABLE',
  plaintext: 'CREDENTIAL_FILE_PLAINTEXT',
} as const satisfies Record<string, OperatorCodeFor<'CredentialFileError'>>;

/** Thrown when a credential file cannot be read back; the message names the file, never its content. */
export class CredentialFileError extends Error {
  readonly file: string;
  readonly reason: keyof typeof credentialFileCodes;
  /** Catalog code (docs/errors.md, operator errors), one per reason. */
  readonly code: OperatorCodeFor<'CredentialFileError'>;

  constructor(file: string, reason: CredentialFileError['reason'], detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'CredentialFileError';
    this.file = file;
    this.reason = reason;
    this.code = credentialFileCodes[reason];
  }
}

/**
 * The AAD: a fixed label plus id and provider, JSON-encoded so `a` + `b-c` and `a-b` + `c` can never
 * produce the same bytes.
 */
export function credentialAad(id: string, provider: string): Buffer {
  return Buffer.from(JSON.stringify(['cliproxyapi-credential-v1', id, provider]), 'utf8');
}

/** Encrypts `plaintext` under `key` (32 bytes). The caller zero-fills `plaintext` afterwards. */
export function encryptEnvelope(plaintext: Buffer, key: { kid: string; key: Buffer }, binding: { id: string; provider: string }): CredentialEnvelope {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv, { authTagLength: tagBytes });
  cipher.setAAD(credentialAad(binding.id, binding.provider));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    v: 1,
    provider: binding.provider,
    kid: key.kid,
    alg: 'A256GCM',
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/**
 * Decrypts an envelope read from `file` for credential `id`. Returns the plaintext in a Buffer the
 * caller owns (and zero-fills when done). Every failure is a CredentialFileError naming the file.
 */
export function decryptEnvelope(
  envelope: CredentialEnvelope,
  keyFor: (kid: string) => Buffer | undefined,
  binding: { id: string; file: string },
): Buffer {
  const key = keyFor(envelope.kid);
  if (key === undefined) {
    throw new CredentialFileError(binding.file, 'unknown-key', `encrypted under key id '${envelope.kid}', which is not in the keyring (wrong key, or the key was retired too early)`);
  }
  const iv = Buffer.from(envelope.iv, 'base64');
  const tag = Buffer.from(envelope.tag, 'base64');
  if (iv.length !== ivBytes || tag.length !== tagBytes) {
    throw new CredentialFileError(binding.file, 'malformed', 'envelope has an IV or tag of the wrong length');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
  decipher.setAAD(credentialAad(binding.id, envelope.provider));
  decipher.setAuthTag(tag);
  const first = decipher.update(Buffer.from(envelope.ct, 'base64'));
  try {
    const last = decipher.final();
    const plaintext = Buffer.concat([first, last]);
    first.fill(0);
    return plaintext;
  } catch {
    first.fill(0);
    throw new CredentialFileError(
      binding.file,
      'tampered-or-moved',
      `authentication failed for credential '${binding.id}' of provider '${envelope.provider}': the file was modified, renamed or copied from another id or provider, or the key with id '${envelope.kid}' is not the one it was written with`,
    );
  }
}

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

/** Result of looking at a `*.json` file in auth.dir: our envelope, a plaintext credential, or junk. */
export type ParsedCredentialFile =
  | { kind: 'envelope'; envelope: CredentialEnvelope }
  | { kind: 'plaintext' }
  | { kind: 'malformed'; detail: string };

/** Fields that mark a JSON file as an unencrypted credential (the Go proxies' auth files, raw keys). */
const plaintextMarkers = ['access_token', 'refresh_token', 'id_token', 'api_key', 'token'];

/** Classifies file content without ever echoing it (it may be a plaintext token). */
export function parseCredentialFile(content: Buffer): ParsedCredentialFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch {
    return { kind: 'malformed', detail: 'not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { kind: 'malformed', detail: 'not a JSON object' };
  const record = parsed as Record<string, unknown>;
  if (record['alg'] === undefined && plaintextMarkers.some((marker) => marker in record)) return { kind: 'plaintext' };
  const { v, provider, kid, alg, iv, ct, tag } = record;
  const isBase64 = (value: unknown): value is string => typeof value === 'string' && base64Pattern.test(value);
  if (v !== 1) return { kind: 'malformed', detail: `unsupported envelope version ${JSON.stringify(v) ?? 'undefined'}` };
  if (alg !== 'A256GCM') return { kind: 'malformed', detail: 'unsupported algorithm (expected A256GCM)' };
  if (typeof provider !== 'string' || provider === '' || typeof kid !== 'string' || kid === '') return { kind: 'malformed', detail: 'envelope lacks provider or kid' };
  if (!isBase64(iv) || !isBase64(ct) || !isBase64(tag)) return { kind: 'malformed', detail: 'envelope iv, ct or tag is not base64' };
  return { kind: 'envelope', envelope: { v: 1, provider, kid, alg: 'A256GCM', iv, ct, tag } };
}
