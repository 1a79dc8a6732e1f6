import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * The one way files that come from an operator or hold secrets are read (credential files, import
 * sources, the keyring, the client key file, the config, the fingerprint, passphrase files):
 *
 * - opened with O_NONBLOCK, so a FIFO (or a device) planted under the expected name cannot block
 *   the open: a blocked open would hang the start before it listens, or a CLI command for ever;
 * - opened with O_NOFOLLOW unless the caller allows a symlink (a config may be one, a secret not);
 * - checked on the opened descriptor (fstat: no check-then-open race) to be a regular file;
 * - read through that descriptor, never by path again, and at most `maxBytes + 1` bytes whatever
 *   fstat says: `/proc` files report size 0, and a file may grow while it is read.
 *
 * Each form has a `…Sync` twin for the synchronous callers (the config reload builds the runtime
 * synchronously); both share the flags, the checks and the messages.
 */

/** Why a file was refused; the message names the path and the rule, never the content. */
export type FileReadRefusal = 'missing' | 'symlink' | 'not-regular' | 'too-large' | 'unreadable';

export class FileReadError extends Error {
  override readonly name = 'FileReadError';

  constructor(
    readonly path: string,
    readonly reason: FileReadRefusal,
    /** What is wrong, without the path: `is not a regular file (a pipe)`. */
    readonly problem: string,
    /** The errno code when the operating system refused (`ENOENT`, `EACCES`), for callers that map it. */
    readonly code?: string,
  ) {
    super(`${path} ${problem}`);
  }
}

export interface ReadFileOptions {
  /** Largest accepted content; one byte more is refused as too large. */
  maxBytes: number;
  /** Follow a symlink at the last component (the config file). Default false: secret files never. */
  followSymlinks?: boolean;
}

export interface RegularFileContent {
  content: Buffer;
  /** fstat of the descriptor that was read: mode, owner, dev and inode of exactly this file. */
  stats: Stats;
}

/** Reads in pieces of this size; files read here are small (the largest limit is a few MiB). */
const readChunkBytes = 65_536;

function openFlags(options: ReadFileOptions): number {
  return fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | (options.followSymlinks === true ? 0 : fsConstants.O_NOFOLLOW);
}

/** What kind of thing a non-regular path is, for messages. */
function describeFileType(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a pipe';
  if (stats.isSocket()) return 'a socket';
  if (stats.isSymbolicLink()) return 'a symlink';
  return 'not a file';
}

function openError(path: string, error: unknown, options: ReadFileOptions): FileReadError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
  if (code === 'ENOENT') return new FileReadError(path, 'missing', 'does not exist', code);
  // O_NOFOLLOW on a symlink fails with ELOOP: the name is a link, whatever it points to.
  if (code === 'ELOOP' && options.followSymlinks !== true) return new FileReadError(path, 'symlink', 'is a symlink; secret files are opened without following symlinks', code);
  return new FileReadError(path, 'unreadable', `cannot be read (${code})`, code);
}

function checkOpened(path: string, stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) throw new FileReadError(path, 'not-regular', `is not a regular file (${describeFileType(stats)})`);
  if (stats.size > maxBytes) throw tooLarge(path, maxBytes);
}

function tooLarge(path: string, maxBytes: number): FileReadError {
  return new FileReadError(path, 'too-large', `is larger than ${maxBytes} bytes`);
}

/** Reads a regular file through one non-blocking descriptor, bounded to `options.maxBytes`. */
export async function readRegularFile(path: string, options: ReadFileOptions): Promise<RegularFileContent> {
  let handle: FileHandle;
  try {
    handle = await open(path, openFlags(options));
  } catch (error) {
    throw openError(path, error, options);
  }
  try {
    const stats = await handle.stat();
    checkOpened(path, stats, options.maxBytes);
    const collector = new BoundedCollector(path, options.maxBytes);
    let buffer: Buffer | undefined = collector.nextBuffer();
    while (buffer !== undefined) buffer = collector.add((await handle.read(buffer, 0, buffer.length, null)).bytesRead);
    return { content: collector.content(), stats };
  } finally {
    await handle.close();
  }
}

/** Sync twin of {@link readRegularFile}. */
export function readRegularFileSync(path: string, options: ReadFileOptions): RegularFileContent {
  let descriptor: number;
  try {
    descriptor = openSync(path, openFlags(options));
  } catch (error) {
    throw openError(path, error, options);
  }
  try {
    const stats = fstatSync(descriptor);
    checkOpened(path, stats, options.maxBytes);
    const collector = new BoundedCollector(path, options.maxBytes);
    let buffer: Buffer | undefined = collector.nextBuffer();
    while (buffer !== undefined) buffer = collector.add(readSync(descriptor, buffer, 0, buffer.length, null));
    return { content: collector.content(), stats };
  } finally {
    closeSync(descriptor);
  }
}

/**
 * The pieces read so far, for both forms: hands out the next buffer to read into until the end of
 * the file or one byte past the limit. Over the limit, the pieces (which may hold secrets) are
 * wiped before the refusal.
 */
class BoundedCollector {
  private readonly pieces: Buffer[] = [];
  private total = 0;
  private current: Buffer | undefined;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
  ) {}

  /** A fresh buffer for the next read. */
  nextBuffer(): Buffer {
    this.current = Buffer.alloc(readChunkBytes);
    return this.current;
  }

  /** Records a read of `bytesRead` into the last buffer; returns the next buffer, or undefined when done. */
  add(bytesRead: number): Buffer | undefined {
    if (bytesRead === 0 || this.current === undefined) return undefined;
    this.pieces.push(this.current.subarray(0, bytesRead));
    this.total += bytesRead;
    return this.total > this.maxBytes ? undefined : this.nextBuffer();
  }

  content(): Buffer {
    const content = Buffer.concat(this.pieces, this.total);
    for (const piece of this.pieces) piece.fill(0);
    if (this.total > this.maxBytes) {
      content.fill(0);
      throw tooLarge(this.path, this.maxBytes);
    }
    return content;
  }
}
