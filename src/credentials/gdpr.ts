import { createCipheriv, createDecipheriv, randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import type { CredentialScan, EncryptedFileStore } from './file-store.js';
import type { SecurityEventSink } from './security-events.js';
import type { StoredCredentialRecord } from './types.js';

/**
 * The GDPR service: listing (no secrets), export (right to data portability) and erasure (right to
 * erasure). The CLI calls it now; the management API will call the same functions, so both paths
 * apply the same rules and record the same security events.
 */
export type CredentialSelector = { id: string } | { account: string } | { all: true };

export interface CredentialServiceOptions {
  store: EncryptedFileStore;
  events: SecurityEventSink;
  /** Who is acting, for the event record: `cli`, `management:<key id>`. */
  actor: string;
}

/** Passphrases shorter than this are refused: the export holds live tokens. 12 characters. */
export const minimumPassphraseBytes = 12;
/** scrypt cost: N=2^15, r=8 → 32 MiB and ~100 ms per derivation; OWASP's floor for scrypt. */
const scryptParameters = { N: 32_768, r: 8, p: 1 } as const;
const exportAad = Buffer.from('cliproxyapi-export-v1', 'utf8');

/** An export encrypted with a passphrase. */
export interface EncryptedExport {
  v: 1;
  alg: 'scrypt+A256GCM';
  kdf: { name: 'scrypt'; salt: string; N: number; r: number; p: number };
  iv: string;
  ct: string;
  tag: string;
}

function deriveKey(passphrase: Buffer, salt: Buffer, parameters: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...parameters, maxmem: 256 * parameters.N * parameters.r };
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, 32, options, (error, key) => (error === null ? resolve(key) : reject(error)));
  });
}

/** Encrypts an export with scrypt + AES-256-GCM. */
export async function encryptExport(plaintext: Buffer, passphrase: Buffer): Promise<EncryptedExport> {
  if (passphrase.length < minimumPassphraseBytes) throw new Error(`the export passphrase must be at least ${minimumPassphraseBytes} characters`);
  const salt = randomBytes(16);
  const key = await deriveKey(passphrase, salt, scryptParameters);
  try {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(exportAad);
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      v: 1,
      alg: 'scrypt+A256GCM',
      kdf: { name: 'scrypt', salt: salt.toString('base64'), ...scryptParameters },
      iv: iv.toString('base64'),
      ct: ct.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
  } finally {
    key.fill(0);
  }
}

/** Decrypts an export made by `encryptExport` (for the admin who restores it, and for tests). */
export async function decryptExport(exported: EncryptedExport, passphrase: Buffer): Promise<Buffer> {
  if (exported.v !== 1 || exported.alg !== 'scrypt+A256GCM' || exported.kdf.name !== 'scrypt') throw new Error('not a cliproxyapi encrypted export');
  const { N, r, p } = exported.kdf;
  if (N > 1_048_576 || r > 32 || p > 16) throw new Error('export KDF parameters are out of range');
  const key = await deriveKey(passphrase, Buffer.from(exported.kdf.salt, 'base64'), { N, r, p });
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(exported.iv, 'base64'));
    decipher.setAAD(exportAad);
    decipher.setAuthTag(Buffer.from(exported.tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(exported.ct, 'base64')), decipher.final()]);
    } catch {
      throw new Error('the export could not be decrypted: wrong passphrase, or the file was modified');
    }
  } finally {
    key.fill(0);
  }
}

function describe(selector: CredentialSelector): string {
  if ('all' in selector) return 'all credentials';
  return 'id' in selector ? `credential '${selector.id}'` : `account '${selector.account}'`;
}

export function createCredentialService(options: CredentialServiceOptions) {
  const { store, events, actor } = options;

  /** Ids matching the selector, from the decryptable files (an unreadable file has no known account). */
  async function select(selector: CredentialSelector): Promise<string[]> {
    if ('id' in selector) {
      if (!(await store.has(selector.id))) throw new Error(`no credential '${selector.id}'`);
      return [selector.id];
    }
    const listed = await store.list();
    const wanted = 'all' in selector ? listed : listed.filter((entry) => entry.email?.toLowerCase() === selector.account.toLowerCase());
    if (wanted.length === 0) throw new Error(`no credentials for ${describe(selector)}`);
    return wanted.map((entry) => entry.id);
  }

  return {
    /** Every credential without a secret, plus files that cannot be read and plaintext files. */
    list(): Promise<CredentialScan> {
      return store.scan();
    },

    /**
     * The selected records WITH their secrets, as JSON bytes, encrypted when a passphrase is given.
     * The caller decides where the bytes go (a 0600 file; stdout only when asked explicitly).
     */
    async export(selector: CredentialSelector, exportOptions: { passphrase?: Buffer } = {}): Promise<{ content: Buffer; ids: string[]; encrypted: boolean }> {
      let ids: string[] = [];
      try {
        ids = await select(selector);
        const records: StoredCredentialRecord[] = [];
        for (const id of ids) records.push(await store.read(id));
        const plaintext = Buffer.from(`${JSON.stringify({ v: 1, exported_at: new Date().toISOString(), credentials: records }, null, 2)}\n`, 'utf8');
        let content = plaintext;
        if (exportOptions.passphrase !== undefined) {
          content = Buffer.from(`${JSON.stringify(await encryptExport(plaintext, exportOptions.passphrase), null, 2)}\n`, 'utf8');
          plaintext.fill(0);
        }
        events.record({ event_type: 'credential-export', result: 'success', actor, credential_ids: ids, detail: `${describe(selector)}, ${exportOptions.passphrase === undefined ? 'unencrypted' : 'passphrase-encrypted'}` });
        return { content, ids, encrypted: exportOptions.passphrase !== undefined };
      } catch (error) {
        events.record({ event_type: 'credential-export', result: 'failure', actor, credential_ids: ids, detail: `${describe(selector)}: ${(error as Error).message}` });
        throw error;
      }
    },

    /** Removes the files; the store's onDeleted listeners drop in-memory copies (runtime, refresh cache). */
    async delete(selector: { id: string } | { account: string }): Promise<string[]> {
      const deleted: string[] = [];
      try {
        for (const id of await select(selector)) {
          await store.delete(id);
          deleted.push(id);
        }
        events.record({ event_type: 'credential-delete', result: 'success', actor, credential_ids: deleted, detail: describe(selector) });
        return deleted;
      } catch (error) {
        events.record({ event_type: 'credential-delete', result: 'failure', actor, credential_ids: deleted, detail: `${describe(selector)}: ${(error as Error).message}` });
        throw error;
      }
    },
  };
}

export type CredentialService = ReturnType<typeof createCredentialService>;
