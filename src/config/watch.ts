import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { FileReadError, readRegularFileSync } from '../files/read-file.js';
import { watchDirectories } from '../files/watch-directories.js';
import type { LoadedConfig } from './load.js';

export interface WatchConfigOptions {
  /** The config file. Its directory is watched, not the file: editors save by writing a temp file and renaming it. */
  readonly path: string;
  /**
   * Other files whose change should reload too (e.g. the client keys file). An extra file whose
   * directory does not exist yet is not watched (fs.watch needs the directory); it is still part
   * of the content digest, so it is picked up on the next reload of the main file.
   */
  readonly extraPaths?: readonly string[];
  /** Quiet period after the last change before reloading, in milliseconds. Default 300. */
  readonly debounceMs?: number;
  /** Loads and validates; throws (ConfigError) when the new content is invalid. */
  readonly load: () => LoadedConfig;
  /** Receives the new config; the caller swaps it in. */
  readonly onReload: (loaded: LoadedConfig) => void;
  /** An invalid edit or a watcher failure. The running config stays in force. */
  readonly onError: (error: unknown) => void;
}

export interface ConfigWatcher {
  close(): void;
}

/**
 * Hot reload. Fail closed: an edit is applied only when `load()` accepts it; an invalid edit is
 * reported through onError and the running config stays. Change detection is by content digest,
 * so a touch, a save without changes or the several events one save produces reload at most once.
 */
export function watchConfig(options: WatchConfigOptions): ConfigWatcher {
  const debounceMs = options.debounceMs ?? 300;
  const mainFile = resolve(options.path);
  const files = [mainFile, ...(options.extraPaths ?? []).map((file) => resolve(file))];
  const namesByDirectory = new Map<string, Set<string>>();
  for (const file of files) {
    const directory = dirname(file);
    if (file !== mainFile && !existsSync(directory)) continue;
    const names = namesByDirectory.get(directory) ?? new Set<string>();
    names.add(basename(file));
    namesByDirectory.set(directory, names);
  }

  // The running config was loaded from what is on disk now.
  let runningDigest = digestFiles(files);
  let lastAttemptDigest = runningDigest;
  const check = (): void => {
    const digest = digestFiles(files);
    if (digest === lastAttemptDigest) return;
    lastAttemptDigest = digest;
    // Reverted to what is already running: nothing to apply.
    if (digest === runningDigest) return;
    let loaded: LoadedConfig;
    try {
      loaded = options.load();
    } catch (error) {
      options.onError(error);
      return;
    }
    runningDigest = digest;
    try {
      options.onReload(loaded);
    } catch (error) {
      options.onError(error);
    }
  };

  return watchDirectories(namesByDirectory, { debounceMs, persistent: true, onSettled: check, onError: options.onError });
}

/** Largest watched file hashed: the config's limit is 1 MiB, the client key file's 4 MiB. 8 MiB. */
const maxWatchedFileBytes = 8 * 1_048_576;

/**
 * SHA-256 over every watched file's bytes; a missing or refused file hashes as a marker of why.
 * Read like every other file (files/read-file.ts): a FIFO swapped in for the config must not block
 * the event loop here, before load() gets to refuse it.
 */
function digestFiles(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file).update('\u0000');
    let content: Buffer | undefined;
    try {
      content = readRegularFileSync(file, { maxBytes: maxWatchedFileBytes, followSymlinks: true }).content;
    } catch (error) {
      hash.update(error instanceof FileReadError ? error.reason : 'unreadable');
    }
    if (content !== undefined) hash.update('present\u0000').update(content);
    hash.update('\u0000');
  }
  return hash.digest('hex');
}
