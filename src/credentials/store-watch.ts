import { basename, dirname, resolve } from 'node:path';
import { watchDirectories } from '../files/watch-directories.js';

/**
 * Watches auth.dir and the encryption key file of a running server, so `creds import`, `creds
 * delete`, a login and `encryption rotate` (each its own process, with its own store instance)
 * reach it without a restart. Only says *that* something changed, debounced: the caller re-reads
 * and decides (oauth/credential-sync.ts), so a missed or spurious event costs at most one re-read.
 *
 * As src/config/watch.ts: directories are watched, not files (every store write is a rename of a
 * temp file, which a watch on the old inode would miss), and a burst of events (a rotation rewrites
 * every file) becomes one call after `debounceMs` of quiet.
 */
export interface CredentialWatchOptions {
  /** auth.dir: every `*.json` in it is a credential file. */
  readonly dir: string;
  /** The key file, when the keyring comes from it (not from CLIPROXY_ENCRYPTION_KEY or the config). */
  readonly keyFile?: string;
  /** Quiet period after the last event before `onChange`, in milliseconds. Default 300. */
  readonly debounceMs?: number;
  readonly onChange: () => void;
  /** A watcher failure (the directory vanished, inotify limits); the running credentials stay. */
  readonly onError: (error: unknown) => void;
}

export interface CredentialWatcher {
  close(): void;
}

/** Throws when a directory cannot be watched at start; the caller logs it and serves without live reload. */
export function watchCredentialFiles(options: CredentialWatchOptions): CredentialWatcher {
  // Which names matter in each watched directory; undefined = every name (auth.dir: a credential
  // file may be added under any name, and a lock or temp file's events are cheap to re-check).
  const directories = new Map<string, Set<string> | undefined>();
  const dir = resolve(options.dir);
  directories.set(dir, undefined);
  if (options.keyFile !== undefined) {
    const keyFile = resolve(options.keyFile);
    const keyDirectory = dirname(keyFile);
    if (!directories.has(keyDirectory)) directories.set(keyDirectory, new Set([basename(keyFile)]));
  }

  return watchDirectories(directories, { debounceMs: options.debounceMs ?? 300, persistent: false, onSettled: options.onChange, onError: options.onError });
}
