import { chmod, chown, lstat, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { privateDirectoryMode, privateFileMode } from './private-file.js';

/**
 * The permission checks of every path that holds a secret (auth.dir and its files, the encryption
 * key file, a config holding secrets, the client key file): not group/other accessible, owned by the
 * proxy's uid (or root), no symlink out of its directory. Each problem comes with the shell command
 * that fixes it and, where a program may do it, a repair for `--fix-permissions`.
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
