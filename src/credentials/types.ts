/**
 * The credential records the encrypted store holds and the interface both the store (file-store.ts)
 * and its users (refresh, GDPR service, runtime) agree on. Secrets live only inside the encrypted
 * envelope; `CredentialListing` is what may be shown or logged.
 */
export type StoredCredentialKind = 'oauth' | 'api_key';

export interface StoredCredentialRecord {
  /** Sanitised id, also the file name: `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$` (no `..`, `/`, NUL). */
  id: string;
  /** The provider name under `providers:` in config this credential serves. */
  provider: string;
  kind: StoredCredentialKind;
  /** The account, for listing and GDPR look-ups (`--account EMAIL`). */
  email?: string;
  api_key?: string;
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  /** Access token expiry, epoch milliseconds. */
  expires_at?: number;
  /** Lower = tried first, as for config keys. */
  priority?: number;
  created_at: string;
  updated_at: string;
  /** Provider-specific non-secret fields kept from an import (e.g. `type`, `project_id`). */
  extra?: Record<string, unknown>;
}

/** What `creds list` shows: never a token, never a key. */
export interface CredentialListing {
  id: string;
  provider: string;
  kind: StoredCredentialKind;
  email?: string;
  expires_at?: number;
  /** The keyring key id the file is encrypted under. */
  kid: string;
  updated_at: string;
}

export interface CredentialStore {
  list(): Promise<CredentialListing[]>;
  /** Throws a clear error naming the file when it cannot be decrypted (tampered, renamed, wrong key). */
  read(id: string): Promise<StoredCredentialRecord>;
  /** Encrypts under the newest key and writes atomically (temp 0600, fsync, rename, fsync dir). */
  write(record: StoredCredentialRecord): Promise<void>;
  delete(id: string): Promise<void>;
}
