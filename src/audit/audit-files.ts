import { constants as fsConstants, type Stats } from 'node:fs';
import { lstat, open, readdir, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { privateFileMode } from '../files/private-file.js';
import { secretPathProblems } from '../files/secret-path-check.js';
import { parseRecordLine, type ChainPosition } from './audit-record.js';

/**
 * The audit files on disk: names, the refusals of an unsafe file, and the chain's last position
 * read back from a file's tail.
 *
 * Names. `audit.file` (`audit.jsonl`) is the live file of one process. Rotation renames it to
 * `<stem>.<last seq, 12 digits><ext>` (`audit.000000004711.jsonl`), so the rotated files sort in
 * chain order by name and a name never repeats. Every process that writes `audit.file` appends to
 * its one chain: the workers of `serve --workers N` and CLI commands alike, each flush under the
 * file's lock after re-reading the last record (audit-writer.ts). Replicas that share a volume set
 * different `audit.file` values (`CLIPROXY_AUDIT_FILE`): the lock's holder is a pid, which another
 * host cannot judge (files/file-lock.ts).
 */

/** Reading the last record: records are bounded (a few KiB), so the last line fits in this. */
const tailReadBytes = 64 * 1024;

/** Why an audit file or its directory is refused; the message says how to fix it. */
export class AuditFileError extends Error {
  override readonly name = 'AuditFileError';
}

/** The name a live file gets when rotated after the record `lastSeq`. */
export function rotatedFileName(file: string, lastSeq: number): string {
  const extension = extname(file);
  return join(dirname(file), `${basename(file, extension)}.${String(lastSeq).padStart(12, '0')}${extension}`);
}

function escapeForRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The rotated files of `file`, oldest first (their names sort in chain order). */
export async function rotatedFilesOf(file: string): Promise<string[]> {
  const extension = extname(file);
  const pattern = new RegExp(`^${escapeForRegExp(basename(file, extension))}\\.(\\d{12})${escapeForRegExp(extension)}$`);
  let names: string[];
  try {
    names = await readdir(dirname(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.filter((name) => pattern.test(name)).sort().map((name) => join(dirname(file), name));
}

/** Checks an opened audit file: a regular file, 0600-like, ours. Throws AuditFileError naming the fix. */
export function checkOpenedAuditFile(path: string, stats: Stats): void {
  if (!stats.isFile()) throw new AuditFileError(`${path} is not a regular file; the audit log refuses to write into it`);
  const problems = secretPathProblems(path, stats, 'file');
  if (problems.length > 0) throw new AuditFileError(`${path} ${problems.map((problem) => `${problem.problem} (fix: ${problem.fix})`).join('; ')}`);
}

/** Checks the directory of the audit files (when it exists): not a symlink, 0700-like, ours. */
export async function checkAuditDirectory(directory: string): Promise<void> {
  let stats: Stats;
  try {
    stats = await lstat(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (stats.isSymbolicLink()) throw new AuditFileError(`${directory} is a symlink; point audit.file at the real directory`);
  if (!stats.isDirectory()) throw new AuditFileError(`${directory} is not a directory`);
  const problems = secretPathProblems(directory, stats, 'directory');
  if (problems.length > 0) throw new AuditFileError(`${directory} ${problems.map((problem) => `${problem.problem} (fix: ${problem.fix})`).join('; ')}`);
}

/**
 * Append-only, never through a symlink, never blocking on a FIFO planted under the name. Read and
 * write: the writer reads the file's last record through the same descriptor it appends with.
 */
const openForAppend = fsConstants.O_RDWR | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK;

/** Opens (creating 0600 if missing) the live file for appending, refusing a symlink or an unsafe file. */
export async function openAuditFileForAppend(path: string): Promise<{ handle: FileHandle; stats: Stats }> {
  let handle: FileHandle;
  try {
    handle = await open(path, openForAppend, privateFileMode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new AuditFileError(`${path} is a symlink; the audit log is never written through one (remove it)`);
    if (code === 'ENXIO') throw new AuditFileError(`${path} is not a regular file (a device or a pipe); the audit log refuses to write into it`);
    throw error;
  }
  try {
    let stats = await handle.stat();
    // Just created: the umask may have removed bits only, but make the mode exact anyway.
    if (stats.size === 0 && stats.isFile() && (stats.mode & 0o777) !== privateFileMode) {
      await handle.chmod(privateFileMode);
      stats = await handle.stat();
    }
    checkOpenedAuditFile(path, stats);
    return { handle, stats };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Where a file's chain stands: its last record's position, and whether its last line was cut short. */
export interface FileTail {
  last: ChainPosition | undefined;
  /** Bytes after the last newline: a write cut by a crash (the next writer starts a fresh line). */
  tornBytes: number;
}

/** Reads the last complete record of an open file of `size` bytes. */
export async function readTail(handle: FileHandle, size: number): Promise<FileTail> {
  if (size === 0) return { last: undefined, tornBytes: 0 };
  const length = Math.min(size, tailReadBytes);
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, size - length);
  const text = buffer.subarray(0, bytesRead).toString('utf8');
  const lastNewline = text.lastIndexOf('\n');
  const tornBytes = Buffer.byteLength(text.slice(lastNewline + 1));
  const complete = text.slice(0, lastNewline + 1).split('\n').filter((line) => line !== '');
  for (let index = complete.length - 1; index >= 0; index--) {
    const position = parseRecordLine(complete[index] ?? '');
    if (position !== undefined) return { last: position, tornBytes };
  }
  return { last: undefined, tornBytes };
}

/** Reads the last record of a closed file (a rotated one), or undefined when it has none. */
export async function lastRecordOf(path: string): Promise<ChainPosition | undefined> {
  const handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    checkOpenedAuditFile(path, stats);
    return (await readTail(handle, stats.size)).last;
  } finally {
    await handle.close();
  }
}
