import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants as fsConstants, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The one module that writes files holding secrets (credential envelopes, the keyring, exports, the
 * client key file, the device fingerprint): modes exact whatever the umask, no symlink followed,
 * atomic and durable replacement.
 *
 * Each operation has an async form and a `…Sync` twin. The twins exist because the client key file
 * is read and written from synchronous paths (the config reload builds the runtime synchronously,
 * the `keys` commands are synchronous) and the fingerprint is computed lazily on the request path.
 * Both forms share the flags, modes, temp names and the directory walk below, and run the same
 * steps in the same order; `private-file.test.ts` runs every case against both.
 */

/** Mode of every secret file we write: owner read/write only. */
export const privateFileMode = 0o600;
/** Mode of every directory of secrets: owner only. */
export const privateDirectoryMode = 0o700;

/** A temp file is created, never reused: O_EXCL refuses a pre-planted file, O_NOFOLLOW a planted symlink. */
const openForExclusiveCreate = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;

/** Temp names: `.<target name>.<12 hex>.tmp`, in the target's directory so the rename is atomic. */
const temporaryNamePattern = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;

function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * The directories a recursive mkdir created, deepest first, given what mkdir returned (the first
 * directory it created, or undefined). mkdir applies the umask, so each of these is chmod-ed to 0700.
 */
function createdDirectories(directory: string, firstCreated: string | undefined): string[] {
  if (firstCreated === undefined) return [];
  const created: string[] = [];
  let current = directory;
  for (;;) {
    created.push(current);
    if (current === firstCreated) break;
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return created;
}

/**
 * Creates `directory` (and missing parents) with mode exactly 0700. Directories that already exist
 * keep their mode: the startup checks report those with the fix instead of silently changing an
 * operator's tree.
 */
export async function ensurePrivateDirectory(directory: string): Promise<void> {
  const firstCreated = await mkdir(directory, { recursive: true, mode: privateDirectoryMode });
  for (const created of createdDirectories(directory, firstCreated)) await chmod(created, privateDirectoryMode);
}

/** Sync twin of {@link ensurePrivateDirectory}. */
export function ensurePrivateDirectorySync(directory: string): void {
  const firstCreated = mkdirSync(directory, { recursive: true, mode: privateDirectoryMode });
  for (const created of createdDirectories(directory, firstCreated)) chmodSync(created, privateDirectoryMode);
}

/**
 * Replaces `path` atomically and durably with `content`: a temp file created 0600 with O_EXCL and
 * O_NOFOLLOW in the same directory (so nobody can pre-plant it or a symlink in its place), fchmod
 * (the umask can only remove bits), write, fsync, rename over the target, fsync the directory. A
 * crash leaves the old file or the new one, never a truncated one: for a credential that could be a
 * single-use refresh token, for the client key file every client locked out.
 */
export async function writePrivateFile(path: string, content: Buffer | string): Promise<void> {
  const directory = dirname(path);
  await ensurePrivateDirectory(directory);
  const temporary = temporaryPathFor(path);
  const handle = await open(temporary, openForExclusiveCreate, privateFileMode);
  try {
    try {
      await handle.chmod(privateFileMode);
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await fsyncDirectory(directory);
}

/** Sync twin of {@link writePrivateFile}. */
export function writePrivateFileSync(path: string, content: Buffer | string): void {
  const directory = dirname(path);
  ensurePrivateDirectorySync(directory);
  const temporary = temporaryPathFor(path);
  const descriptor = openSync(temporary, openForExclusiveCreate, privateFileMode);
  try {
    try {
      fchmodSync(descriptor, privateFileMode);
      writeAllSync(descriptor, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // Already renamed or never created: nothing to clean.
    }
    throw error;
  }
  fsyncDirectorySync(directory);
}

/**
 * Creates `path` with `content` only if it does not exist yet, and returns false when it does: the
 * temp file is written and fsync-ed like above, then hard-linked into place (link, unlike rename,
 * fails on an existing target). Two processes creating at once agree on one file: the loser reads
 * the winner's. Used for values that must be created once (the device fingerprint).
 */
export async function createPrivateFileExclusive(path: string, content: Buffer | string): Promise<boolean> {
  const directory = dirname(path);
  await ensurePrivateDirectory(directory);
  const temporary = temporaryPathFor(path);
  const handle = await open(temporary, openForExclusiveCreate, privateFileMode);
  try {
    try {
      await handle.chmod(privateFileMode);
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  await fsyncDirectory(directory);
  return true;
}

/** Sync twin of {@link createPrivateFileExclusive}. */
export function createPrivateFileExclusiveSync(path: string, content: Buffer | string): boolean {
  const directory = dirname(path);
  ensurePrivateDirectorySync(directory);
  const temporary = temporaryPathFor(path);
  const descriptor = openSync(temporary, openForExclusiveCreate, privateFileMode);
  try {
    try {
      fchmodSync(descriptor, privateFileMode);
      writeAllSync(descriptor, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // Never created: nothing to clean.
    }
  }
  fsyncDirectorySync(directory);
  return true;
}

function writeAllSync(descriptor: number, content: Buffer): void {
  let written = 0;
  while (written < content.length) written += writeSync(descriptor, content, written, content.length - written);
}

/** Makes a rename, link or unlink in `directory` durable. */
export async function fsyncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(directory, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Sync twin of {@link fsyncDirectory}. */
export function fsyncDirectorySync(directory: string): void {
  if (process.platform === 'win32') return;
  const descriptor = openSync(directory, fsConstants.O_RDONLY);
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Removes temp files a crash left behind in `directory` (a SIGKILL between create and rename).
 * Only files older than `olderThanMs` go: another process sharing the directory may be mid-write.
 * `forTarget` limits it to temps of one file (the key file's directory is not ours to sweep).
 * Returns the removed paths. A keyring temp holds key material, so this matters beyond tidiness.
 */
export async function removeStaleTemporaryFiles(directory: string, options: { olderThanMs?: number; forTarget?: string; now?: number } = {}): Promise<string[]> {
  const cutoff = (options.now ?? Date.now()) - (options.olderThanMs ?? 60_000);
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = temporaryNamePattern.exec(name);
    if (match === null || (options.forTarget !== undefined && match[1] !== options.forTarget)) continue;
    const path = join(directory, name);
    const stats = await lstat(path).catch(() => undefined);
    if (stats === undefined || !stats.isFile() || stats.mtimeMs > cutoff) continue;
    await unlink(path).catch(() => undefined);
    removed.push(path);
  }
  return removed;
}
