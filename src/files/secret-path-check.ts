import { constants as fsConstants, type Stats } from 'node:fs';
import { lstat, open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { relative } from 'node:path';
import { privateDirectoryMode, privateFileMode } from './private-file.js';
import { checkReadOnlyMountSecret, isInsideOrAt, readOnlyMountProblemsForStats } from './read-only-mount.js';

/**
 * The permission checks of every path that holds a secret (auth.dir and its files, the encryption
 * key file, a config holding secrets, the client key file): not group/other accessible, owned by the
 * proxy's uid (or root), no symlink out of its directory. Each problem comes with the shell command
 * that fixes it and, where a program may do it, a repair for `--fix-permissions`. A path the rule
 * refuses is accepted when it sits on a read-only mount in the orchestrator's shape
 * (read-only-mount.ts): `serve`, `creds check` and `doctor` all come through here.
 */

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
 * What a secret path is: a `file` or `directory` holding secrets (no group/other bits at all), or
 * the `containing-directory` of a secret file kept outside a directory of ours (the client key
 * file's): others may list it, but nobody else may write to it, since whoever can write to a
 * directory can rename another file over the secret one.
 */
export type SecretPathKind = 'file' | 'directory' | 'containing-directory';

/** One broken rule, from the stats alone; `wanted` is what a repair would set. */
export interface SecretPathProblem {
  problem: string;
  fix: string;
  /** Undefined for a file on a read-only mount: nothing can be changed there, the volume's definition must be. */
  wanted?: { mode: number } | { uid: number; gid: number };
}

/**
 * The rule every secret path follows, decided from stats (an lstat by path, or the fstat of an open
 * descriptor): mode and owner. Symlinks are the caller's business (an lstat shows them, an
 * O_NOFOLLOW open refuses them). Where the ordinary rule refuses and `path` is exactly that file on
 * a read-only mount, the read-only mount rule decides instead.
 */
export function secretPathProblems(path: string, stats: Stats, kind: SecretPathKind): SecretPathProblem[] {
  const problems = ordinaryPathProblems(path, stats, kind);
  if (problems.length === 0) return problems;
  return readOnlyMountProblemsForStats(path, stats, kind) ?? problems;
}

function ordinaryPathProblems(path: string, stats: Stats, kind: SecretPathKind): SecretPathProblem[] {
  if (process.platform === 'win32') return [];
  const problems: SecretPathProblem[] = [];
  const quoted = shellQuote(path);
  const mode = stats.mode & 0o777;
  const modeText = mode.toString(8).padStart(4, '0');
  if (kind === 'containing-directory') {
    if ((mode & 0o022) !== 0) {
      problems.push({ problem: `mode ${modeText} lets group or others replace the files in it`, fix: `chmod go-w ${quoted}`, wanted: { mode: mode & ~0o022 } });
    }
  } else if ((mode & 0o077) !== 0) {
    const wantedMode = kind === 'file' ? privateFileMode : privateDirectoryMode;
    problems.push({
      problem: `mode ${modeText} lets group or others ${kind === 'file' ? 'read it' : 'list or enter it'}`,
      fix: `chmod ${wantedMode.toString(8)} ${quoted}`,
      wanted: { mode: wantedMode },
    });
  }
  const uid = currentUid();
  if (uid !== undefined && stats.uid !== uid && stats.uid !== 0) {
    problems.push({
      problem: `is owned by uid ${stats.uid}, not by the proxy's uid ${uid}`,
      fix: `chown ${uid} ${quoted}`,
      wanted: { uid, gid: typeof process.getgid === 'function' ? process.getgid() : stats.gid },
    });
  }
  return problems;
}

/**
 * Checks one path that holds secrets: not group/other accessible, owned by us (or root), and not a
 * symlink pointing outside `containingDirectory` — or, refused by that, a secret in the orchestrator's
 * shape on a read-only mount (read-only-mount.ts). Returns nothing when the path does not exist.
 */
export async function checkSecretPath(
  path: string,
  options: { kind: SecretPathKind; containingDirectory?: string },
): Promise<PermissionFinding[]> {
  if (process.platform === 'win32') return [];
  let linkStats;
  try {
    linkStats = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const findings = await ordinaryFindings(path, linkStats, options);
  if (findings.length === 0) return findings;
  // Refused by the ordinary rule: on a read-only mount the orchestrator's shape may still pass.
  const mounted = checkReadOnlyMountSecret(path, options.kind);
  if (mounted === undefined) return findings;
  return mounted.problems.map(({ problem, fix }) => ({ path, problem, fix }));
}

async function ordinaryFindings(path: string, linkStats: Stats, options: { kind: SecretPathKind; containingDirectory?: string }): Promise<PermissionFinding[]> {
  const quoted = shellQuote(path);
  if (linkStats.isSymbolicLink()) {
    const target = await realpath(path).catch(() => undefined);
    const container = options.containingDirectory === undefined ? undefined : await realpath(options.containingDirectory).catch(() => options.containingDirectory);
    const outside = target === undefined || container === undefined || isOutside(container, target);
    const what = options.kind === 'file' ? 'file' : 'directory';
    if (outside) {
      return [{
        path,
        problem: `is a symlink pointing ${target === undefined ? 'nowhere' : `out of ${options.containingDirectory ?? 'its directory'} (to ${target})`}`,
        fix: `rm ${quoted} and put the real ${what} there (mode ${what === 'file' ? '600' : '700'})`,
      }];
    }
    return [{ path, problem: 'is a symlink; secret files are opened without following symlinks', fix: `replace ${quoted} with the file it points to` }];
  }
  const inspected = { dev: linkStats.dev, ino: linkStats.ino };
  return ordinaryPathProblems(path, linkStats, options.kind).map(({ problem, fix, wanted }) => ({
    path,
    problem,
    fix,
    // As anyone but root, a chown repair fails and the start stays refused.
    ...(wanted === undefined ? {} : { repair: () => repairThroughHandle(path, inspected, wanted) }),
  }));
}

/**
 * A repair runs as root, often, and by path it would be a gift: a symlink swapped in between the
 * check and the chmod/chown redirects them to any file on the system. So the path is opened
 * without following a symlink (and without blocking on a FIFO), the descriptor's dev and inode
 * must be the ones inspected, and the change goes through the descriptor (fchmod/fchown).
 * Anything else changes nothing and throws an error naming the path.
 */
async function repairThroughHandle(path: string, inspected: { dev: number; ino: number }, wanted: NonNullable<SecretPathProblem['wanted']>): Promise<void> {
  await repairSeam.beforeRepair(path);
  let handle: FileHandle;
  try {
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new Error(code === 'ELOOP' ? `${path} became a symlink after it was checked; nothing was changed` : `${path} could not be opened for the repair (${code}); nothing was changed`);
  }
  try {
    const stats = await handle.stat();
    if (stats.dev !== inspected.dev || stats.ino !== inspected.ino) {
      throw new Error(`${path} is no longer the file that was checked (replaced in between); nothing was changed`);
    }
    if ('mode' in wanted) await handle.chmod(wanted.mode);
    else await handle.chown(wanted.uid, wanted.gid);
  } finally {
    await handle.close();
  }
}

/**
 * Test seam: runs at the start of every repair, in the window between the check and the repair
 * that an attacker would race, so a test can swap the path there deterministically instead of by
 * timing. The default does nothing; production code never sets it.
 */
export const repairSeam: { beforeRepair: (path: string) => Promise<void> } = {
  beforeRepair: () => Promise.resolve(),
};

function isOutside(container: string, target: string): boolean {
  return relative(container, target) === '' || !isInsideOrAt(container, target);
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
