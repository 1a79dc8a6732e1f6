import { unlink } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { EncryptedFileStore } from './file-store.js';
import { sanitizeCredentialId } from './file-store.js';
import { fsyncDirectory } from '../files/private-file.js';
import { readRegularFile } from '../files/read-file.js';
import type { StoredCredentialRecord } from './types.js';

/**
 * Import of the Go proxies' plain auth files (CLIProxyAPI and forks): JSON with `type` ("claude",
 * "codex", "gemini", …), `access_token`, `refresh_token`, `id_token`, `expired` (RFC 3339), `email`,
 * `last_refresh`, … (Gemini files nest the tokens under `token` with `expiry`). A file holding one
 * bare line is a plain API key. Each becomes an encrypted record; the plaintext is deleted only on
 * request and only after the encrypted copy has been read back.
 */
export interface ImportOptions {
  /** Provider name under `providers:`; default the file's `type`. Required for a bare API key. */
  provider?: string;
  deleteSource?: boolean;
  /** Overwrite an existing credential with the same id (re-import after a fresh login). */
  replace?: boolean;
  now?: () => Date;
}

export interface ImportResult {
  source: string;
  id: string;
  provider: string;
  kind: StoredCredentialRecord['kind'];
  sourceDeleted: boolean;
}

/** Import files are a few KB. 256 KiB. */
const maxImportBytes = 262_144;
/** Fields never copied into `extra`: anything that looks like a secret stays out of the plain part. */
const secretFieldPattern = /token|secret|key|password|cookie|credential|session/i;
const providerNamePattern = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/**
 * What a credential may look like: printable ASCII, no spaces (a bearer token, an API key, a JWT),
 * 8 to 16,384 characters (the longest real tokens, ID-token JWTs, are a few KB). A control
 * character would break or inject into the HTTP header it is sent in; an import of
 * `/proc/self/environ` or a binary file is a mistake to report, not a key to store.
 */
const credentialValuePattern = /^[\x21-\x7e]{8,16384}$/;
const credentialValueRule = '8 to 16384 printable ASCII characters, no spaces or control characters';

/** Refuses an implausible credential value, naming the field and the rule, never the value. */
function checkCredentialValue(value: string | undefined, field: string, source: string): string | undefined {
  if (value !== undefined && !credentialValuePattern.test(value)) {
    throw new Error(`${source}: ${field} is not a plausible credential (${value.length} characters); a credential must be ${credentialValueRule}`);
  }
  return value;
}

/** Parses one import file into a record (not yet stored). Errors name the file, never its content. */
export function parseImportFile(content: Buffer, source: string, options: ImportOptions = {}): StoredCredentialRecord {
  const now = (options.now ?? (() => new Date()))().toISOString();
  const text = content.toString('utf8').trim();
  if (!text.startsWith('{')) {
    if (text === '' || /\s/.test(text)) throw new Error(`${source}: neither a JSON auth file nor a single-line API key`);
    if (options.provider === undefined) throw new Error(`${source}: a plain API key needs --provider NAME (the provider under providers: in config)`);
    const apiKey = checkCredentialValue(text, 'the API key', source);
    return { id: idFromSource(source, options.provider), provider: checkProvider(options.provider, source), kind: 'api_key', api_key: apiKey, created_at: now, updated_at: now };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${source}: not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${source}: not a JSON object`);
  const fields = parsed as Record<string, unknown>;
  const nested = typeof fields['token'] === 'object' && fields['token'] !== null ? (fields['token'] as Record<string, unknown>) : {};
  const pick = (name: string): string | undefined => {
    const value = fields[name] ?? nested[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const type = pick('type');
  const provider = checkProvider(options.provider ?? type ?? '', source);
  const accessToken = checkCredentialValue(pick('access_token'), 'access_token', source);
  const refreshToken = checkCredentialValue(pick('refresh_token'), 'refresh_token', source);
  const apiKey = checkCredentialValue(pick('api_key'), 'api_key', source);
  const idToken = checkCredentialValue(pick('id_token'), 'id_token', source);
  if (accessToken === undefined && refreshToken === undefined && apiKey === undefined) {
    throw new Error(`${source}: no access_token, refresh_token or api_key found`);
  }
  const email = pick('email');
  const expiry = pick('expired') ?? pick('expiry') ?? pick('expires_at');
  const expiresAt = expiry === undefined ? undefined : Date.parse(expiry);
  if (expiresAt !== undefined && Number.isNaN(expiresAt)) throw new Error(`${source}: 'expired' is not an RFC 3339 time`);
  const extra: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (secretFieldPattern.test(name) || name === 'email' || name === 'expired' || typeof value === 'object') continue;
    extra[name] = value;
  }
  const kind = accessToken === undefined && refreshToken === undefined ? 'api_key' : 'oauth';
  return {
    id: idFromSource(source, provider),
    provider,
    kind,
    ...(email === undefined ? {} : { email }),
    ...(apiKey === undefined ? {} : { api_key: apiKey }),
    ...(accessToken === undefined ? {} : { access_token: accessToken }),
    ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
    ...(idToken === undefined ? {} : { id_token: idToken }),
    ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
    created_at: now,
    updated_at: now,
    ...(Object.keys(extra).length === 0 ? {} : { extra }),
  };
}

function checkProvider(provider: string, source: string): string {
  if (!providerNamePattern.test(provider)) {
    throw new Error(`${source}: provider ${provider === '' ? '(none: the file has no "type")' : JSON.stringify(provider.slice(0, 40))} is not a provider name; pass --provider NAME`);
  }
  return provider;
}

/** The id: the source file name without `.json`, characters outside the id alphabet replaced by `-`. */
function idFromSource(source: string, provider: string): string {
  const stem = basename(source).replace(/\.json$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/\.{2,}/g, '.').replace(/^[^A-Za-z0-9]+/, '');
  return sanitizeCredentialId((stem === '' ? provider : stem).slice(0, 128));
}

/** Imports one file into `store`. */
export async function importCredentialFile(store: EncryptedFileStore, source: string, options: ImportOptions = {}): Promise<ImportResult> {
  const { content } = await readRegularFile(source, { maxBytes: maxImportBytes });
  let record: StoredCredentialRecord;
  try {
    record = parseImportFile(content, source, options);
  } finally {
    content.fill(0);
  }
  // Migration in place: the plaintext file in auth.dir is replaced by its envelope in one rename.
  const inPlace = resolve(source) === resolve(store.fileFor(record.id));
  try {
    // The existence check is made under the file's lock, in the same step as the write.
    await store.write(record, { mustNotExist: !inPlace && options.replace !== true });
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
  // Read back before the plaintext goes: a delete must never be the only copy's end.
  const check = await store.read(record.id);
  if (check.access_token !== record.access_token || check.refresh_token !== record.refresh_token || check.api_key !== record.api_key) {
    throw new Error(`${source}: the encrypted copy did not read back identically; the source was kept`);
  }
  let sourceDeleted = inPlace;
  if (options.deleteSource === true && !inPlace) {
    // Unlinking does not scrub the blocks (journaling and copy-on-write file systems keep copies):
    // docs/security/credentials.md says so; the point is that no live file holds the token in clear.
    await unlink(source);
    await fsyncDirectory(dirname(source));
    sourceDeleted = true;
  }
  return { source, id: record.id, provider: record.provider, kind: record.kind, sourceDeleted };
}
