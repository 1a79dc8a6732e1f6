import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Reading files that hold secrets or come from an operator: never through a symlink at the last
 * component, checked on the opened descriptor (no check-then-open race), bounded in size.
 */
const openForReadNoFollow = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW;

/**
 * Reads a regular file without following a symlink at its last component, bounded to `maxBytes`.
 * Returns the bytes and the mode/owner seen on the opened descriptor (no check-then-open race).
 */
export async function readFileNoFollow(path: string, maxBytes: number): Promise<{ content: Buffer; mode: number; uid: number }> {
  let handle;
  try {
    handle = await open(path, openForReadNoFollow);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new Error(`${path} is a symlink; credential files are opened without following symlinks`);
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error(`${path} is not a regular file`);
    if (stats.size > maxBytes) throw new Error(`${path} is larger than ${maxBytes} bytes`);
    const content = await handle.readFile();
    return { content, mode: stats.mode & 0o777, uid: stats.uid };
  } finally {
    await handle.close();
  }
}
