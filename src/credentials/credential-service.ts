import { encryptExport } from './export-encryption.js';
import type { CredentialScan, EncryptedFileStore } from './file-store.js';
import type { SecurityEventSink } from './security-events.js';
import type { StoredCredentialRecord } from './types.js';

/**
 * The credential service: listing (no secrets), export (the GDPR right to data portability) and
 * erasure (the right to erasure). The CLI calls it now; the management API will call the same
 * functions, so both paths apply the same rules and record the same security events.
 */
export type CredentialSelector = { id: string } | { account: string } | { all: true };

export interface CredentialServiceOptions {
  store: EncryptedFileStore;
  events: SecurityEventSink;
  /** Who is acting, for the event record: `cli`, `management:<key id>`. */
  actor: string;
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
