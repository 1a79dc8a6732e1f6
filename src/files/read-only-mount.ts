import { lstatSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * The one exception to the secret-file rule: a secret on a READ-ONLY mount, as an orchestrator
 * presents it (a Kubernetes Secret or ConfigMap volume, `podman -v …:ro`, a read-only bind mount).
 * Kubernetes makes such a volume root-owned, gives it group read for `fsGroup` (`defaultMode:
 * 0440`) and shapes it as symlinks: `tls.key -> ..data/tls.key`, `..data -> ..2026_12_03_…`, swapped
 * atomically on update. The ordinary rule (mode 0600, owner the proxy's uid or root, no symlink)
 * refuses all three. Here they are accepted because the mount itself forbids what the rule guards
 * against: nobody in this mount namespace can write, chmod, replace or re-point anything on a
 * read-only mount. So the file must be:
 *
 * - on a mount that `/proc/self/mountinfo` marks read-only — taken from the kernel, never from config;
 * - root-owned (the orchestrator's), nothing for others, no group write, and not writable by the
 *   proxy's uid (as root: no owner write bit either); group read is allowed;
 * - reached through symlinks that all lie inside that mount and resolve inside it, never through
 *   a link that leaves it (a writable place could re-point it).
 *
 * The same file on a writable mount stays refused by the ordinary rule (secret-path-check.ts).
 */

/** One line of /proc/self/mountinfo, the fields used here. */
export interface MountEntry {
  mountPoint: string;
  readOnly: boolean;
}

/** Where the kernel lists this process's mounts (a test never replaces it: the rule must read the real table). */
const mountInfoPath = '/proc/self/mountinfo';

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Parses mountinfo text; lines it cannot read are skipped (the kernel's format is fixed). */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    const mountPoint = fields[4];
    const mountOptions = fields[5];
    if (separator < 6 || mountPoint === undefined || mountOptions === undefined) continue;
    // Read-only per mount (`mount -o remount,ro,bind`, `:ro` volumes) or for the whole filesystem.
    const superOptions = fields[separator + 3] ?? '';
    const readOnly = mountOptions.split(',').includes('ro') || superOptions.split(',').includes('ro');
    entries.push({ mountPoint: unescapeMountField(mountPoint), readOnly });
  }
  return entries;
}

/** `..data/x` is inside: only `..` itself or a `../` prefix climbs out (the Secret volume's names start with `..`). */
export function isInsideOrAt(container: string, path: string): boolean {
  const relation = relative(container, path);
  return relation === '' || (relation !== '..' && !relation.startsWith(`..${sep}`) && !isAbsolute(relation));
}

/**
 * The mount a resolved (symlink-free) absolute path lives on: the longest mount point that
 * contains it, the last one listed when several sit on the same point (a later mount hides the
 * earlier). Undefined where there is no mount table (not Linux).
 */
export function mountOf(realPath: string): MountEntry | undefined {
  let text: string;
  try {
    text = readFileSync(mountInfoPath, 'utf8');
  } catch {
    return undefined;
  }
  let best: MountEntry | undefined;
  for (const entry of parseMountInfo(text)) {
    if (!isInsideOrAt(entry.mountPoint, realPath)) continue;
    if (best === undefined || entry.mountPoint.length >= best.mountPoint.length) best = entry;
  }
  return best;
}

/** Longest symlink chain followed, as the kernel's own limit. */
const maxSymlinkHops = 40;

/**
 * Resolves `path` one component at a time and returns the first symlink that lies outside
 * `mountPoint` or resolves out of it, with where it pointed; undefined when every link stays inside.
 */
function linkLeavingMount(path: string, mountPoint: string): { link: string; target: string } | undefined {
  const pending = resolve(path).split(sep).filter((part) => part !== '');
  let current: string = sep;
  let hops = 0;
  let followedLink = false;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '.') continue;
    if (part === '..') {
      current = dirname(current);
    } else {
      const candidate = join(current, part);
      const stats = lstatSync(candidate);
      if (stats.isSymbolicLink()) {
        hops += 1;
        const target = readlinkSync(candidate);
        if (!isInsideOrAt(mountPoint, candidate) || hops > maxSymlinkHops) return { link: candidate, target };
        followedLink = true;
        if (isAbsolute(target)) current = sep;
        pending.unshift(...target.split(sep).filter((piece) => piece !== ''));
        continue;
      }
      current = candidate;
    }
    // Once a link was followed, every step must stay inside the mount: `..data/../../elsewhere` leaves it.
    if (followedLink && !isInsideOrAt(mountPoint, current)) return { link: path, target: current };
  }
  return undefined;
}

/** One reason a secret on a read-only mount is still refused, with the fix an operator applies. */
export interface ReadOnlyMountProblem {
  problem: string;
  fix: string;
}

export type ReadOnlyMountKind = 'file' | 'directory' | 'containing-directory';

function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/**
 * The mount rule on a file's stats (an fstat of the descriptor read, or a stat by path):
 * root-owned, nothing for others, no group write, not writable by the proxy's uid.
 * A `containing-directory` on a read-only mount passes whatever its mode: nobody can rename a file
 * over the secret there, which is all that kind guards against.
 */
export function readOnlyMountStatProblems(path: string, stats: Stats, kind: ReadOnlyMountKind): ReadOnlyMountProblem[] {
  if (kind === 'containing-directory') return [];
  const problems: ReadOnlyMountProblem[] = [];
  const mode = stats.mode & 0o777;
  const modeText = mode.toString(8).padStart(4, '0');
  const mountFix = `set the volume's mode to 0440 (Kubernetes: defaultMode: 0440 with fsGroup) or 0400`;
  if (stats.uid !== 0) {
    problems.push({ problem: `is on a read-only mount but owned by uid ${stats.uid}, not root (only an orchestrator's root-owned secret is accepted there)`, fix: `mount it root-owned, or put it in a private directory with mode 600 owned by the proxy's uid` });
  }
  if ((mode & 0o007) !== 0) problems.push({ problem: `is on a read-only mount but mode ${modeText} lets others read it`, fix: mountFix });
  else if ((mode & 0o020) !== 0) problems.push({ problem: `is on a read-only mount but mode ${modeText} lets its group write it`, fix: mountFix });
  else if (currentUid() === 0 && (mode & 0o200) !== 0) problems.push({ problem: `is on a read-only mount but mode ${modeText} is writable by the proxy's uid (root)`, fix: mountFix });
  return problems;
}

/** What the rule decided about a path on a read-only mount. */
export interface ReadOnlyMountVerdict {
  mountPoint: string;
  /** The file itself, every symlink resolved: what a reader opens (without following links). */
  realPath: string;
  /** False when a symlink on the way lies outside the mount or resolves out of it. */
  linksStayInside: boolean;
  problems: ReadOnlyMountProblem[];
}

/**
 * Applies the read-only mount rule to `path` (which may be a symlink). Undefined when the path
 * does not exist or does not resolve onto a read-only mount: the ordinary rule then decides alone.
 */
export function checkReadOnlyMountSecret(path: string, kind: ReadOnlyMountKind): ReadOnlyMountVerdict | undefined {
  if (process.platform !== 'linux') return undefined;
  let realPath: string;
  try {
    realPath = realpathSync(path);
  } catch {
    return undefined;
  }
  const mount = mountOf(realPath);
  if (mount === undefined || !mount.readOnly) return undefined;
  let leaving: { link: string; target: string } | undefined;
  try {
    leaving = linkLeavingMount(path, mount.mountPoint);
  } catch {
    return undefined;
  }
  if (leaving !== undefined) {
    return {
      mountPoint: mount.mountPoint,
      realPath,
      linksStayInside: false,
      problems: [{ problem: `is reached through the symlink ${leaving.link} -> ${leaving.target}, which leaves the read-only mount ${mount.mountPoint}`, fix: `point the path at the file inside ${mount.mountPoint} (links inside the mount, such as ..data/, are accepted)` }],
    };
  }
  return { mountPoint: mount.mountPoint, realPath, linksStayInside: true, problems: readOnlyMountStatProblems(realPath, statSync(realPath), kind) };
}

/**
 * The path a secret-file reader opens (without following symlinks): the resolved file when `path`
 * is a symlink whose whole chain stays inside a read-only mount (the Secret volume shape), else
 * `path` itself, whose symlink the reader then refuses as before. The links cannot change under
 * the reader: nothing on a read-only mount can be re-pointed from inside this mount namespace.
 */
export function secretReadPath(path: string): string {
  try {
    if (!lstatSync(path).isSymbolicLink()) return path;
  } catch {
    return path;
  }
  const verdict = checkReadOnlyMountSecret(path, 'file');
  if (verdict === undefined || !verdict.linksStayInside) return path;
  return verdict.realPath;
}

/**
 * The mount rule for a file already opened (`stats` from its descriptor): undefined unless `path`
 * resolves onto a read-only mount to exactly that file (same device and inode), so a descriptor of
 * a writable file is never judged by the read-only rule.
 */
export function readOnlyMountProblemsForStats(path: string, stats: Stats, kind: ReadOnlyMountKind): ReadOnlyMountProblem[] | undefined {
  if (process.platform !== 'linux') return undefined;
  let realPath: string;
  let current: Stats;
  try {
    realPath = realpathSync(path);
    current = statSync(realPath);
  } catch {
    return undefined;
  }
  if (current.dev !== stats.dev || current.ino !== stats.ino) return undefined;
  const mount = mountOf(realPath);
  if (mount === undefined || !mount.readOnly) return undefined;
  return readOnlyMountStatProblems(realPath, stats, kind);
}
