import { setTimeout as sleep } from 'node:timers/promises';
import { decryptEnvelope, encryptEnvelope } from './crypto.js';
import type { EncryptedFileStore } from './file-store.js';
import { generateKey, Keyring, readKeyFile, writeKeyFile } from './keyring.js';
import { withFileLock } from '../files/file-lock.js';
import { writePrivateFile } from '../files/private-file.js';

/**
 * Key rotation, crash-safe at every step:
 * 1. the new key is appended to the keyring and the keyring written atomically (and the directory
 *    fsync-ed) BEFORE any credential is re-encrypted, so every file written under the new key has
 *    its key on disk first;
 * 2. each file is re-encrypted and replaced atomically, one by one; at any moment every file is
 *    under some key of the keyring (old or new);
 * 3. old keys are dropped only with `retireOld`, and only after a full pass has verified that every
 *    file is under the newest key. A SIGKILL anywhere leaves a keyring that decrypts every file;
 *    re-running with `resume` finishes the pass without adding another key.
 */
export interface RotationStep {
  step: 'keyring-written' | 'file-reencrypted' | 'file-current' | 'old-keys-retired' | 'done';
  id?: string;
  kid?: string;
}

export interface RotationOptions {
  keyFile: string;
  store: EncryptedFileStore;
  /** Drop every key but the newest once all files are re-encrypted under it. */
  retireOld?: boolean;
  /** Do not add a key: finish an interrupted rotation (re-encrypt under the newest key). */
  resume?: boolean;
  onStep?: (step: RotationStep) => void;
  /**
   * Milliseconds to wait after each step. Test hook for the SIGKILL tests (the CLI reads it from
   * CLIPROXY_TEST_ROTATION_PAUSE_MS); capped at 2 s so a stray variable cannot hang a rotation.
   */
  pauseMs?: number;
}

export interface RotationResult {
  newKid: string;
  reencrypted: string[];
  unreadable: { id: string; message: string }[];
  /** Rewritten by someone else mid-rotation and left as they were; run with `resume` again. */
  changedDuringRotation: string[];
  retiredKids: string[];
}

export const maximumRotationPauseMs = 2_000;

export async function rotateEncryptionKey(options: RotationOptions): Promise<RotationResult> {
  const { store } = options;
  if (store.keyring.source !== 'key_file') {
    throw new Error(
      `rotation needs the keyring in auth.encryption.key_file, but the key comes from ${store.keyring.source === 'env' ? 'CLIPROXY_ENCRYPTION_KEY' : 'auth.encryption.key in the config'}; ` +
        `write it to ${options.keyFile} (one base64 line, mode 0600), unset the other source, and run the rotation again`,
    );
  }
  const pauseMs = Math.min(Math.max(options.pauseMs ?? 0, 0), maximumRotationPauseMs);
  const report = async (step: RotationStep) => {
    options.onStep?.(step);
    if (pauseMs > 0) await sleep(pauseMs);
  };

  // Re-read the key file: the keyring on disk is the one that must stay a superset.
  let keyring = await readKeyFile(options.keyFile);
  if (options.resume !== true) {
    const added = generateKey();
    await writeKeyFile(options.keyFile, [...keyring.keys, added]);
    added.key.fill(0);
    keyring.destroy();
    keyring = await readKeyFile(options.keyFile);
    store.replaceKeyring(keyring);
    await report({ step: 'keyring-written', kid: added.kid });
  } else {
    store.replaceKeyring(keyring);
  }
  const newest = keyring.newest();
  const result: RotationResult = { newKid: newest.kid, reencrypted: [], unreadable: [], changedDuringRotation: [], retiredKids: [] };

  for (const id of await store.fileIds()) {
    try {
      const envelope = await store.readEnvelope(id);
      if (envelope.kid === newest.kid) {
        await report({ step: 'file-current', id });
        continue;
      }
      const file = store.fileFor(id);
      const plaintext = decryptEnvelope(envelope, (kid) => keyring.keyFor(kid), { id, file });
      try {
        const next = encryptEnvelope(plaintext, newest, { id, provider: envelope.provider });
        // A running proxy may have rewritten the file (a refresh) since we read it: never replace a
        // newer credential with an older one. The file stays under its key; --resume picks it up.
        // The re-read and the write happen under the file's lock, which every store write takes,
        // so no refresh can land between them.
        const written = await withFileLock(file, async () => {
          if ((await store.readEnvelope(id)).iv !== envelope.iv) return false;
          await writePrivateFile(file, `${JSON.stringify(next)}\n`);
          return true;
        });
        if (!written) {
          result.changedDuringRotation.push(id);
          continue;
        }
      } finally {
        plaintext.fill(0);
      }
      result.reencrypted.push(id);
      await report({ step: 'file-reencrypted', id, kid: newest.kid });
    } catch (error) {
      result.unreadable.push({ id, message: error instanceof Error ? error.message : String(error) });
    }
  }

  if (options.retireOld === true) {
    if (result.changedDuringRotation.length > 0) {
      throw new Error(
        `not retiring old keys: ${result.changedDuringRotation.join(', ')} changed during the rotation; run \`cliproxyapi encryption rotate --resume --retire-old\``,
      );
    }
    if (result.unreadable.length > 0) {
      throw new Error(
        `not retiring old keys: ${result.unreadable.length} credential file(s) could not be re-encrypted (${result.unreadable.map((entry) => entry.id).join(', ')}); ` +
          'fix or delete them and run `cliproxyapi encryption rotate --resume --retire-old`',
      );
    }
    // Verify from disk, not from memory: every file must name the newest kid before a key is dropped.
    for (const id of await store.fileIds()) {
      const envelope = await store.readEnvelope(id);
      if (envelope.kid !== newest.kid) throw new Error(`not retiring old keys: ${store.fileFor(id)} is still under key '${envelope.kid}'`);
    }
    result.retiredKids = keyring.keys.filter((entry) => entry.kid !== newest.kid).map((entry) => entry.kid);
    if (result.retiredKids.length > 0) {
      await writeKeyFile(options.keyFile, [newest]);
      const retired = keyring;
      store.replaceKeyring(new Keyring([{ ...newest, key: Buffer.from(newest.key) }], 'key_file'));
      retired.destroy();
      await report({ step: 'old-keys-retired' });
    }
  }
  await report({ step: 'done', kid: newest.kid });
  return result;
}
