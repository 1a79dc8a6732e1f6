import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CredentialFileError, decryptEnvelope, encryptEnvelope, parseCredentialFile, type CredentialEnvelope } from './crypto.js';
import type { Keyring } from './keyring.js';
import { ensurePrivateDirectory, fsyncDirectory, writePrivateFile } from '../files/private-file.js';
import { withFileLock } from '../files/file-lock.js';
import { FileReadError, readRegularFile } from '../files/read-file.js';
import type { CredentialListing, CredentialStore, StoredCredentialRecord } from './types.js';

/** Same rule as types.ts: a file name that cannot escape the directory or hide as a dotfile. */
const credentialIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** A credential file is a few KB; 1 MiB bounds a hostile file. */
const maxCredentialFileBytes = 1_048_576;

/**
 * Returns `id` when it is safe as a file name, else throws. Refuses `..`, `/`, NUL and anything
 * outside the id pattern: ids come from import files and management requests, so an id must never
 * be able to name a path outside auth.dir.
 */
export function sanitizeCredentialId(id: string): string {
  if (!credentialIdPattern.test(id) || id.includes('..')) {
    throw new Error(`invalid credential id ${JSON.stringify(id.slice(0, 80))}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, no '..'`);
  }
  return id;
}

/** Ids of the `*.json` credential files in `dir`, sorted; temp files, dot files and odd names are skipped. */
export async function listCredentialFileIds(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .filter((id) => credentialIdPattern.test(id) && !id.includes('..'))
    .sort();
}

/** A file in auth.dir the store could not read; the others keep serving. */
export interface UnreadableCredentialFile {
  id: string;
  file: string;
  reason: CredentialFileError['reason'];
  message: string;
}

export interface CredentialScan {
  credentials: CredentialListing[];
  unreadable: UnreadableCredentialFile[];
  /** Files holding credentials in clear (the Go proxies' format): to import or migrate. */
  plaintext: string[];
}

export interface EncryptedFileStoreOptions {
  dir: string;
  keyring: Keyring;
  /** Called for every file `list()` skips, so the runtime can log it and keep serving the others. */
  onUnreadable?: (problem: UnreadableCredentialFile) => void;
}

/**
 * The credential store: one AES-256-GCM envelope per credential in `dir` (0700), files 0600, written
 * atomically. Decrypted records exist only while a caller holds them; the serialized plaintext is
 * built in a Buffer and zero-filled right after encryption or parsing.
 */
export class EncryptedFileStore implements CredentialStore {
  readonly dir: string;
  private keyringValue: Keyring;
  private readonly onUnreadable: ((problem: UnreadableCredentialFile) => void) | undefined;
  private readonly deletedListeners = new Set<(id: string) => void>();

  constructor(options: EncryptedFileStoreOptions) {
    this.dir = options.dir;
    this.keyringValue = options.keyring;
    this.onUnreadable = options.onUnreadable;
  }

  get keyring(): Keyring {
    return this.keyringValue;
  }

  /** Swaps in a new keyring (after a rotation). The caller destroys the old one when nothing uses it. */
  replaceKeyring(keyring: Keyring): void {
    this.keyringValue = keyring;
  }

  /**
   * Registers a listener for deletions, so the runtime can drop in-memory copies and cached tokens
   * (GDPR erasure). Returns the unsubscribe function.
   */
  onDeleted(listener: (id: string) => void): () => void {
    this.deletedListeners.add(listener);
    return () => this.deletedListeners.delete(listener);
  }

  fileFor(id: string): string {
    return join(this.dir, `${sanitizeCredentialId(id)}.json`);
  }

  async list(): Promise<CredentialListing[]> {
    const scan = await this.scan();
    for (const problem of scan.unreadable) this.onUnreadable?.(problem);
    return scan.credentials;
  }

  /** Lists every file: readable credentials, unreadable ones (with the reason) and plaintext ones. */
  async scan(): Promise<CredentialScan> {
    const result: CredentialScan = { credentials: [], unreadable: [], plaintext: [] };
    for (const id of await this.fileIds()) {
      const file = join(this.dir, `${id}.json`);
      try {
        const { envelope, record } = await this.readWithEnvelope(id);
        result.credentials.push({
          id: record.id,
          provider: record.provider,
          kind: record.kind,
          ...(record.email === undefined ? {} : { email: record.email }),
          ...(record.expires_at === undefined ? {} : { expires_at: record.expires_at }),
          kid: envelope.kid,
          updated_at: record.updated_at,
        });
        wipeRecord(record);
      } catch (error) {
        if (error instanceof CredentialFileError && error.reason === 'plaintext') {
          result.plaintext.push(file);
          continue;
        }
        const reason = error instanceof CredentialFileError ? error.reason : 'unreadable';
        const message = error instanceof Error ? error.message : String(error);
        result.unreadable.push({ id, file, reason, message: message.startsWith(file) ? message : `${file}: ${message}` });
      }
    }
    return result;
  }

  /** Ids of the `*.json` files in the directory, sorted; temp and dot files are skipped. */
  fileIds(): Promise<string[]> {
    return listCredentialFileIds(this.dir);
  }

  async read(id: string): Promise<StoredCredentialRecord> {
    return (await this.readWithEnvelope(id)).record;
  }

  /** The envelope as stored (no decryption): rotation and status use its `kid`. */
  async readEnvelope(id: string): Promise<CredentialEnvelope> {
    const file = this.fileFor(id);
    const { content } = await this.readFile(file);
    const parsed = parseCredentialFile(content);
    content.fill(0);
    if (parsed.kind === 'plaintext') throw new CredentialFileError(file, 'plaintext', 'holds an unencrypted credential; import it with `cliproxyapi creds import`');
    if (parsed.kind === 'malformed') throw new CredentialFileError(file, 'malformed', `not a credential envelope (${parsed.detail})`);
    return parsed.envelope;
  }

  async readWithEnvelope(id: string): Promise<{ envelope: CredentialEnvelope; record: StoredCredentialRecord }> {
    const file = this.fileFor(id);
    const envelope = await this.readEnvelope(id);
    const plaintext = decryptEnvelope(envelope, (kid) => this.keyringValue.keyFor(kid), { id, file });
    try {
      const record = JSON.parse(plaintext.toString('utf8')) as StoredCredentialRecord;
      if (record.id !== id || record.provider !== envelope.provider) {
        throw new CredentialFileError(file, 'tampered-or-moved', 'decrypted record names another id or provider');
      }
      return { envelope, record };
    } catch (error) {
      if (error instanceof CredentialFileError) throw error;
      throw new CredentialFileError(file, 'malformed', 'decrypted content is not a credential record');
    } finally {
      plaintext.fill(0);
    }
  }

  /**
   * Encrypts and writes under the file's lock (files/file-lock.ts), so a write never lands between
   * another process's check and write (rotation, an import). `mustNotExist` makes the existence
   * check part of the same locked step: two imports of one id cannot both succeed.
   */
  async write(record: StoredCredentialRecord, options: { mustNotExist?: boolean } = {}): Promise<void> {
    const file = this.fileFor(record.id);
    if (record.provider === '') throw new Error(`credential '${record.id}' has no provider`);
    const plaintext = Buffer.from(JSON.stringify(record), 'utf8');
    let envelope: CredentialEnvelope;
    try {
      envelope = encryptEnvelope(plaintext, this.keyringValue.newest(), { id: record.id, provider: record.provider });
    } finally {
      plaintext.fill(0);
    }
    await ensurePrivateDirectory(this.dir);
    await withFileLock(file, async () => {
      if (options.mustNotExist === true && (await this.has(record.id))) {
        throw new Error(`credential '${record.id}' already exists; pass --replace to overwrite it, or delete it first`);
      }
      await writePrivateFile(file, `${JSON.stringify(envelope)}\n`);
    });
  }

  async delete(id: string): Promise<void> {
    const file = this.fileFor(id);
    await withFileLock(file, async () => {
      try {
        await unlink(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`no credential '${id}' in ${this.dir}`);
        throw error;
      }
    });
    await fsyncDirectory(this.dir);
    for (const listener of this.deletedListeners) listener(id);
  }

  /** True when the credential file exists (decryptable or not). */
  async has(id: string): Promise<boolean> {
    return (await this.fileIds()).includes(sanitizeCredentialId(id));
  }

  /** Through one non-blocking, no-follow descriptor: a FIFO named `x.json` is reported, never waited on. */
  private async readFile(file: string): Promise<{ content: Buffer }> {
    try {
      return await readRegularFile(file, { maxBytes: maxCredentialFileBytes });
    } catch (error) {
      if (!(error instanceof FileReadError)) throw error;
      throw new CredentialFileError(file, 'unreadable', error.reason === 'missing' ? 'no such credential file' : error.problem);
    }
  }
}

/**
 * Best effort: drops the secret fields of a record the caller is done with. JavaScript strings are
 * immutable and cannot be zeroed; removing the references lets the collector reclaim them sooner.
 */
export function wipeRecord(record: StoredCredentialRecord): void {
  delete record.api_key;
  delete record.access_token;
  delete record.refresh_token;
  delete record.id_token;
}
