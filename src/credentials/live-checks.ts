import { lstat } from 'node:fs/promises';
import { checkSecretPath, formatFinding } from '../files/secret-path-check.js';
import { CredentialFileError } from './crypto.js';
import type { EncryptedFileStore } from './file-store.js';
import { readKeyFile, type Keyring } from './keyring.js';

/**
 * The checks a running server applies to a credential file or a key file that changed under it
 * (credentials added by `creds import` or a login, removed by `creds delete`, re-encrypted by a
 * rotation). They are the start's checks (startup-checks.ts) applied to one path: a file that
 * would refuse the start is refused here, with the same wording, and the running set stays.
 */

/**
 * What identifies one version of a credential file without reading it: inode, size and change
 * time. Every store write is a rename of a new file, so a write always changes the inode; a sync
 * re-reads only files whose stamp moved. Undefined when the file is gone.
 */
export async function credentialFileStamp(file: string): Promise<string | undefined> {
  try {
    const stats = await lstat(file, { bigint: true });
    return `${stats.dev}:${stats.ino}:${stats.size}:${stats.ctimeNs}:${stats.mode}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Why a credential file that appeared or changed is refused before it is decrypted: a symlink
 * (in or out of the directory), a group- or world-readable mode, another owner. The same rules
 * `prepareCredentialStore` refuses the start with; empty when the file may be read.
 */
export async function credentialFileProblems(store: EncryptedFileStore, id: string): Promise<string[]> {
  const file = store.fileFor(id);
  const findings = await checkSecretPath(file, { kind: 'file', containingDirectory: store.dir });
  return findings.map((finding) => formatFinding(finding));
}

/** Why auth.dir itself may not be trusted now (mode loosened, owner changed); empty when it is fine. */
export async function credentialDirectoryProblems(store: EncryptedFileStore): Promise<string[]> {
  const findings = await checkSecretPath(store.dir, { kind: 'directory' });
  return findings.map((finding) => formatFinding(finding));
}

/** Outcome of looking at the key file again. */
export type KeyringReload =
  | { kind: 'unchanged' }
  | { kind: 'replaced'; kids: string[] }
  | { kind: 'refused'; reason: string };

function sameKeys(left: Keyring, right: Keyring): boolean {
  if (left.keys.length !== right.keys.length) return false;
  return left.keys.every((entry, index) => {
    const other = right.keys[index];
    return other !== undefined && other.kid === entry.kid && other.key.equals(entry.key);
  });
}

/**
 * Re-reads `keyFile` and swaps it into `store` when it differs from the running keyring. Fail
 * closed: a key file that cannot be read (missing, symlink, loosened mode, malformed, a placeholder
 * key) is refused, and so is a keyring that would lose a key a stored credential is encrypted
 * under (the running keyring reads the file, the new one could not): a key file replaced by
 * mistake or by an attacker must not make the running credentials unreadable or let new writes go
 * out under a foreign key. Rotation always writes a superset first and retires old keys only once
 * no file uses them, so it passes this check at every step. The replaced keyring is zero-filled.
 */
export async function reloadKeyring(store: EncryptedFileStore, keyFile: string): Promise<KeyringReload> {
  if (store.keyring.source !== 'key_file') return { kind: 'unchanged' };
  let next: Keyring;
  try {
    next = await readKeyFile(keyFile);
  } catch (error) {
    return { kind: 'refused', reason: error instanceof Error ? error.message : String(error) };
  }
  const running = store.keyring;
  if (sameKeys(running, next)) {
    next.destroy();
    return { kind: 'unchanged' };
  }
  const lost: string[] = [];
  for (const id of await store.fileIds()) {
    let kid: string;
    try {
      kid = (await store.readEnvelope(id)).kid;
    } catch (error) {
      if (error instanceof CredentialFileError) continue; // unreadable either way: not the new keyring's doing
      throw error;
    }
    const runningKey = running.keyFor(kid);
    if (runningKey === undefined) continue;
    const nextKey = next.keyFor(kid);
    if (nextKey === undefined || !nextKey.equals(runningKey)) lost.push(id);
  }
  if (lost.length > 0) {
    next.destroy();
    return {
      kind: 'refused',
      reason: `${keyFile}: the new keyring lacks the key that ${lost.length} stored credential(s) are encrypted under (${lost.slice(0, 5).join(', ')}${lost.length > 5 ? ', …' : ''}); restore the previous key file or run \`cliproxyapi encryption rotate --resume\``,
    };
  }
  store.replaceKeyring(next);
  // Every read and write takes the keyring synchronously at the moment it encrypts or decrypts,
  // so nothing still holds the old one after the swap.
  running.destroy();
  return { kind: 'replaced', kids: next.keys.map((entry) => entry.kid) };
}
