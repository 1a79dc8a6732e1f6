import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, chown, lstat, mkdir, open, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative, isAbsolute } from 'node:path';

/**
 * File-system primitives for everything that holds a secret (credential files, the keyring, exports):
 * modes exact whatever the umask, atomic durable replacement, and no symlink following. Also the
 * permission checks run at startup, which describe each problem with the command that fixes it.
 */

/** Mode of every secret file we write: owner read/write only. */
export const privateFileMode = 0o600;
/** Mode of every directory of secrets: owner only. */
export const privateDirectoryMode = 0o700;

const openForExclusiveCreate = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
const openForReadNoFollow = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW;

/**
 * Creates `directory` (and missing parents) with mode exactly 0700. mkdir applies the umask, so
 * every directory this call created is chmod-ed afterwards; existing directories are left to the
 * startup checks, which report them with the fix instead of silently changing an operator's tree.
 */
export async function ensurePrivateDirectory(directory: string): Promise<void> {
  const firstCreated = await mkdir(directory, { recursive: true, mode: privateDirectoryMode });
  if (firstCreated === undefined) return;
  let current = directory;
  for (;;) {
    await chmod(current, privateDirectoryMode);
    if (current === firstCreated) break;
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
}

/**
 * Replaces `path` atomically and durably with `content`: a temp file created 0600 with O_EXCL and
 * O_NOFOLLOW in the same directory (so nobody can pre-plant it or a symlink in its place), fsync,
 * rename over the target, fsync the directory. A crash leaves the old file or the new one, never a
 * truncated one: for a credential that could be a single-use refresh token.
 */
export async function writeFileAtomic(path: string, content: Buffer | string): Promise<void> {
  const directory = dirname(path);
  await ensurePrivateDirectory(directory);
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, openForExclusiveCreate, privateFileMode);
  try {
    try {
      // The umask can only remove bits; fchmod makes the mode exact.
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

/** Makes a rename or unlink in `directory` durable. */
export async function fsyncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(directory, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

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

/** One insecure path found at startup, with the command that fixes it. */
export interface PermissionFinding {
  path: string;
  problem: string;
  /** A shell command an operator can run, e.g. `chmod 600 /data/auths/x.json`. */
  fix: string;
  /** What --fix-permissions can do about it; undefined when only a human can (a symlink out of the dir). */
  repair?: () => Promise<void>;
}

export function formatFinding(finding: PermissionFinding): string {
  return `${finding.path}: ${finding.problem}; fix: ${finding.fix}`;
}

function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./@:+-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** The uid the checks expect as owner. Root-owned is also accepted: root can read everything anyway. */
function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/**
 * Checks one path that holds secrets: not group/other accessible, owned by us (or root), and not a
 * symlink pointing outside `containingDirectory`. Returns nothing when the path does not exist.
 */
export async function checkSecretPath(
  path: string,
  options: { kind: 'file' | 'directory'; containingDirectory?: string },
): Promise<PermissionFinding[]> {
  if (process.platform === 'win32') return [];
  let linkStats;
  try {
    linkStats = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const findings: PermissionFinding[] = [];
  const quoted = shellQuote(path);
  if (linkStats.isSymbolicLink()) {
    const target = await realpath(path).catch(() => undefined);
    const container = options.containingDirectory === undefined ? undefined : await realpath(options.containingDirectory).catch(() => options.containingDirectory);
    const outside = target === undefined || container === undefined || isOutside(container, target);
    if (outside) {
      findings.push({
        path,
        problem: `is a symlink pointing ${target === undefined ? 'nowhere' : `out of ${options.containingDirectory ?? 'its directory'} (to ${target})`}`,
        fix: `rm ${quoted} and put the real ${options.kind} there (mode ${options.kind === 'file' ? '600' : '700'})`,
      });
      return findings;
    }
    findings.push({ path, problem: 'is a symlink; secret files are opened without following symlinks', fix: `replace ${quoted} with the file it points to` });
    return findings;
  }
  const wantedMode = options.kind === 'file' ? privateFileMode : privateDirectoryMode;
  const mode = linkStats.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    const modeText = wantedMode.toString(8);
    findings.push({
      path,
      problem: `mode ${mode.toString(8).padStart(4, '0')} lets group or others ${options.kind === 'file' ? 'read it' : 'list or enter it'}`,
      fix: `chmod ${modeText} ${quoted}`,
      repair: () => chmod(path, wantedMode),
    });
  }
  const uid = currentUid();
  if (uid !== undefined && linkStats.uid !== uid && linkStats.uid !== 0) {
    findings.push({
      path,
      problem: `is owned by uid ${linkStats.uid}, not by the proxy's uid ${uid}`,
      fix: `chown ${uid} ${quoted}`,
      // Only root may give a file away; as anyone else this repair fails and the start stays refused.
      repair: () => chown(path, uid, typeof process.getgid === 'function' ? process.getgid() : linkStats.gid),
    });
  }
  return findings;
}

function isOutside(container: string, target: string): boolean {
  const relation = relative(container, target);
  return relation === '' || relation.startsWith('..') || isAbsolute(relation);
}

/** True when `path` exists (following symlinks). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Temp names writeFileAtomic creates: `.<target name>.<12 hex>.tmp`. */
const temporaryNamePattern = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;

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
