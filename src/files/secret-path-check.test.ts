import { chmodSync, chownSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test/helpers/rejection.js';
import { checkSecretPath, type PermissionFinding } from './secret-path-check.js';

/**
 * `--fix-permissions` runs as root, often. The checks inspect a path, the repair changes it later:
 * another local user who swaps a symlink in between would have root chmod or chown a file of their
 * choosing. Each case here swaps the path between the check and the repair (deterministically: the
 * findings are the seam) and shows the file outside untouched.
 */
let root: string;
let secrets: string;
let outside: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'cliproxy-repair-')));
  secrets = join(root, 'auths');
  mkdirSync(secrets, { mode: 0o700 });
  outside = join(root, 'outside.txt');
  writeFileSync(outside, 'not a secret of ours', { mode: 0o644 });
  chmodSync(outside, 0o644);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const modeOf = (path: string) => statSync(path).mode & 0o777;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
/** nobody: a uid that is neither the test's nor root. */
const otherUid = 65534;

function only(findings: PermissionFinding[]): PermissionFinding & { repair: () => Promise<void> } {
  expect(findings).toHaveLength(1);
  const [finding] = findings;
  expect(finding?.repair).toBeDefined();
  return finding as PermissionFinding & { repair: () => Promise<void> };
}

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, Error);

describe('checkSecretPath repairs', () => {
  it('repair of a 0644 file sets 0600 on that file', async () => {
    const file = join(secrets, 'alice.json');
    writeFileSync(file, '{}', { mode: 0o644 });
    chmodSync(file, 0o644);
    await only(await checkSecretPath(file, { kind: 'file', containingDirectory: secrets })).repair();
    expect(modeOf(file)).toBe(0o600);
  });

  it('a symlink swapped in after the check: the chmod does not reach the target, the error names the path', async () => {
    const file = join(secrets, 'alice.json');
    writeFileSync(file, '{}', { mode: 0o644 });
    chmodSync(file, 0o644);
    const finding = only(await checkSecretPath(file, { kind: 'file', containingDirectory: secrets }));
    rmSync(file);
    symlinkSync(outside, file);
    const error = await rejection(finding.repair());
    expect(error.message).toBe(`${file} became a symlink after it was checked; nothing was changed`);
    expect(modeOf(outside)).toBe(0o644);
  });

  it('another file renamed over it after the check (no symlink): dev/inode differ, nothing changed', async () => {
    const file = join(secrets, 'alice.json');
    writeFileSync(file, '{}', { mode: 0o644 });
    chmodSync(file, 0o644);
    const finding = only(await checkSecretPath(file, { kind: 'file', containingDirectory: secrets }));
    const planted = join(secrets, 'planted');
    writeFileSync(planted, 'planted', { mode: 0o644 });
    chmodSync(planted, 0o644);
    renameSync(planted, file);
    const error = await rejection(finding.repair());
    expect(error.message).toBe(`${file} is no longer the file that was checked (replaced in between); nothing was changed`);
    expect(modeOf(file)).toBe(0o644);
  });

  it('a directory swapped for a symlink to another directory after the check: that directory keeps its mode', async () => {
    const directory = join(root, 'loose');
    mkdirSync(directory);
    chmodSync(directory, 0o755);
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(elsewhere);
    chmodSync(elsewhere, 0o755);
    const finding = only(await checkSecretPath(directory, { kind: 'directory' }));
    rmSync(directory, { recursive: true });
    symlinkSync(elsewhere, directory);
    expect((await rejection(finding.repair())).message).toContain(`${directory} became a symlink`);
    expect(modeOf(elsewhere)).toBe(0o755);
  });

  it.skipIf(!isRoot)('as root: a chown repair swapped to a symlink leaves the target with its owner', async () => {
    const file = join(secrets, 'alice.json');
    writeFileSync(file, '{}', { mode: 0o600 });
    chownSync(file, otherUid, otherUid);
    chownSync(outside, otherUid, otherUid);
    const finding = only(await checkSecretPath(file, { kind: 'file', containingDirectory: secrets }));
    expect(finding.fix).toBe(`chown 0 ${file}`);
    rmSync(file);
    symlinkSync(outside, file);
    await rejection(finding.repair());
    expect(statSync(outside).uid).toBe(otherUid);
  });

  it.skipIf(!isRoot)('as root: an unswapped chown repair gives the file back to the proxy', async () => {
    const file = join(secrets, 'alice.json');
    writeFileSync(file, '{}', { mode: 0o600 });
    chownSync(file, otherUid, otherUid);
    await only(await checkSecretPath(file, { kind: 'file', containingDirectory: secrets })).repair();
    expect(statSync(file).uid).toBe(0);
  });

  it('a containing directory: others may list it but not write to it; the repair removes only the write bits', async () => {
    const directory = join(root, 'config-dir');
    mkdirSync(directory);
    chmodSync(directory, 0o775);
    const finding = only(await checkSecretPath(directory, { kind: 'containing-directory' }));
    expect(finding.problem).toBe('mode 0775 lets group or others replace the files in it');
    expect(finding.fix).toBe(`chmod go-w ${directory}`);
    await finding.repair();
    expect(modeOf(directory)).toBe(0o755);
    expect(await checkSecretPath(directory, { kind: 'containing-directory' })).toEqual([]);
  });
});
