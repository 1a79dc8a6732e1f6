import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, fstatSync, linkSync, lstatSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { link, lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ensurePrivateDirectory, ensurePrivateDirectorySync, privateFileMode } from './private-file.js';

/**
 * An advisory lock on one file, across processes, with Node's own modules only: a lock file
 * `.<name>.lock` beside the file, created with O_CREAT|O_EXCL (the kernel lets exactly one process
 * create it) and removed on release. Read-modify-write callers (`keys create|revoke`, the credential
 * store's writes, rotation's re-encryption) run inside it, re-read the file under it, and write with
 * the atomic private-file writer, so no update is lost and none is undone.
 *
 * Why a lock file: Node exposes no flock/fcntl, and a native addon or a lock package is a runtime
 * dependency for what O_EXCL gives. The cost of a lock file is recovery after a crash, done here:
 * - the file holds `<pid> <process token>`; a holder whose pid no longer exists is dead, and a lock
 *   with our pid but another token was left by an earlier process that had our pid (a container
 *   restarted: the server is pid 1 again);
 * - a lock older than `staleAfterMs` (60 s) is stale whatever its pid says (the pid was reused);
 *   holders do one read and one write, milliseconds, never that long;
 * - breaking a stale lock renames it aside first and checks (inode) that the file renamed is the
 *   one judged stale; if another process had replaced it meanwhile, it is linked back.
 * Inside one process, holders of the same lock queue on a promise chain first, so the process does
 * not spin against itself. The sync twin (`withFileLockSync`) serves the synchronous key commands.
 */
export interface FileLockOptions {
  /** Longest wait for the lock, in milliseconds (default 10 s); then an Error naming the holder. */
  timeoutMs?: number;
  /** A lock file older than this (milliseconds, default 60 s) is stale even if its pid exists. */
  staleAfterMs?: number;
}

const defaultTimeoutMs = 10_000;
const defaultStaleAfterMs = 60_000;
/** Polling between attempts: short (the lock is held for milliseconds), jittered so waiters spread. */
const retryBaseMs = 5;
const retryJitterMs = 20;

const openForCreate = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
const openForRead = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK;
/** Identifies this process in lock files, beside its pid (pids repeat across container restarts). */
const processToken = randomBytes(8).toString('hex');
const ownContent = `${process.pid} ${processToken}\n`;

/** The lock file of `path`: hidden, beside it, in the same (private) directory. */
export function lockPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.lock`);
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a lock file seen with `content` and modification time `mtimeMs` may be broken. */
export function isStaleLock(content: string, mtimeMs: number, now: number, staleAfterMs: number): boolean {
  if (now - mtimeMs > staleAfterMs) return true;
  const match = /^(\d+) ([0-9a-f]+)\n$/.exec(content);
  // Empty or partial: the holder is between create and write. Young, so alive.
  if (match === null) return false;
  const pid = Number(match[1]);
  if (pid === process.pid) return match[2] !== processToken;
  return !isProcessAlive(pid);
}

function describeHolder(content: string): string {
  const pid = /^(\d+) /.exec(content)?.[1];
  return pid === undefined ? 'another process' : `process ${pid}`;
}

function timeoutError(path: string, content: string, timeoutMs: number): Error {
  return new Error(`could not lock ${path} within ${timeoutMs} ms: ${describeHolder(content)} holds ${lockPathFor(path)}; if no such process runs, remove that file`);
}

const inProcessQueues = new Map<string, Promise<unknown>>();

/**
 * Runs `action` while holding the lock of `path` (created in a 0700 directory if missing) and
 * releases it afterwards, also when `action` throws.
 */
export async function withFileLock<T>(path: string, action: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const lockPath = lockPathFor(path);
  const previous = inProcessQueues.get(lockPath) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const inode = await acquire(path, lockPath, options);
    try {
      return await action();
    } finally {
      release(lockPath, inode);
    }
  });
  const settled = run.catch(() => undefined);
  inProcessQueues.set(lockPath, settled);
  void settled.then(() => {
    if (inProcessQueues.get(lockPath) === settled) inProcessQueues.delete(lockPath);
  });
  return run;
}

/**
 * The uncontended case in four synchronous calls (open O_EXCL, write, fstat, close: microseconds on
 * a local disk) instead of six thread-pool round trips: the audit log takes this lock on every
 * flush (ten a second under load) and the usage store every second. Undefined when the lock is
 * held or its directory is missing: the caller's full path handles both.
 */
function tryCreateLockSync(lockPath: string): number | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(lockPath, openForCreate, privateFileMode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    writeSync(descriptor, ownContent);
    return fstatSync(descriptor).ino;
  } finally {
    closeSync(descriptor);
  }
}

async function acquire(path: string, lockPath: string, options: FileLockOptions): Promise<number> {
  const uncontended = tryCreateLockSync(lockPath);
  if (uncontended !== undefined) return uncontended;
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const deadline = Date.now() + timeoutMs;
  await ensurePrivateDirectory(dirname(lockPath));
  for (;;) {
    try {
      const handle = await open(lockPath, openForCreate, privateFileMode);
      try {
        await handle.writeFile(ownContent);
        return (await handle.stat()).ino;
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const seen = await inspect(lockPath);
    if (seen !== undefined && isStaleLock(seen.content, seen.mtimeMs, Date.now(), options.staleAfterMs ?? defaultStaleAfterMs)) {
      await breakStaleLock(lockPath, seen.ino);
      continue;
    }
    if (Date.now() >= deadline) throw timeoutError(path, seen?.content ?? '', timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, retryBaseMs + Math.random() * retryJitterMs));
  }
}

async function inspect(lockPath: string): Promise<{ content: string; mtimeMs: number; ino: number } | undefined> {
  try {
    const handle = await open(lockPath, openForRead);
    try {
      const stats = await handle.stat();
      const buffer = Buffer.alloc(64);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return { content: buffer.subarray(0, bytesRead).toString('utf8'), mtimeMs: stats.mtimeMs, ino: stats.ino };
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function breakStaleLock(lockPath: string, staleInode: number): Promise<void> {
  const aside = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else broke it first
    throw error;
  }
  if ((await lstat(aside)).ino !== staleInode) {
    // A live lock replaced the stale one between our look and the rename: put it back.
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

function release(lockPath: string, inode: number): void {
  // Only our own lock file: if it was broken as stale and re-taken, it is someone else's now.
  // Synchronous, like the uncontended acquire: two metadata calls on the lock's own directory.
  if (lstatOrUndefined(lockPath)?.ino !== inode) return;
  try {
    unlinkSync(lockPath);
  } catch {
    // Already gone: nothing to release.
  }
}

/** Sync twin of {@link withFileLock}, for the synchronous `keys` commands and config reload. */
export function withFileLockSync<T>(path: string, action: () => T, options: FileLockOptions = {}): T {
  const lockPath = lockPathFor(path);
  const inode = acquireSync(path, lockPath, options);
  try {
    return action();
  } finally {
    const stats = lstatOrUndefined(lockPath);
    if (stats?.ino === inode) {
      try {
        unlinkSync(lockPath);
      } catch {
        // Already gone: nothing to release.
      }
    }
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function acquireSync(path: string, lockPath: string, options: FileLockOptions): number {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const deadline = Date.now() + timeoutMs;
  ensurePrivateDirectorySync(dirname(lockPath));
  for (;;) {
    try {
      const descriptor = openSync(lockPath, openForCreate, privateFileMode);
      try {
        writeSync(descriptor, ownContent);
        return fstatSync(descriptor).ino;
      } finally {
        closeSync(descriptor);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const seen = inspectSync(lockPath);
    if (seen !== undefined && isStaleLock(seen.content, seen.mtimeMs, Date.now(), options.staleAfterMs ?? defaultStaleAfterMs)) {
      breakStaleLockSync(lockPath, seen.ino);
      continue;
    }
    if (Date.now() >= deadline) throw timeoutError(path, seen?.content ?? '', timeoutMs);
    // A synchronous sleep: the caller is synchronous and nothing else in this process needs the thread.
    Atomics.wait(sleepCell, 0, 0, retryBaseMs + Math.random() * retryJitterMs);
  }
}

function inspectSync(lockPath: string): { content: string; mtimeMs: number; ino: number } | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(lockPath, openForRead);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stats = fstatSync(descriptor);
    const buffer = Buffer.alloc(64);
    const bytesRead = readSync(descriptor, buffer, 0, buffer.length, 0);
    return { content: buffer.subarray(0, bytesRead).toString('utf8'), mtimeMs: stats.mtimeMs, ino: stats.ino };
  } finally {
    closeSync(descriptor);
  }
}

function breakStaleLockSync(lockPath: string, staleInode: number): void {
  const aside = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
  try {
    renameSync(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (lstatSync(aside).ino !== staleInode) linkSync(aside, lockPath);
  } catch {
    // Another lock appeared in the meantime: it stands.
  }
  try {
    unlinkSync(aside);
  } catch {
    // Already gone.
  }
}

function lstatOrUndefined(path: string): { ino: number } | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
