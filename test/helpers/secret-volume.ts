import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A directory shaped like a Kubernetes Secret volume, as the kubelet's atomic writer lays it out:
 * the files in a timestamped directory `..2026_12_03_15_00_00.000000001/`, `..data` a symlink to it,
 * and each visible name a symlink into `..data/`. Files are root-owned with group read for the
 * fsGroup (`defaultMode: 0440`). `mountReadOnly` bind-mounts it read-only elsewhere (a real mount,
 * as the kubelet's): the same tree then exists twice, on a writable and on a read-only mount.
 */
export interface SecretVolume {
  /** The tree on its ordinary, writable filesystem. */
  writable: string;
  /** The same tree through a read-only bind mount. */
  readOnly: string;
  /** Unmounts and removes everything; safe to call twice. */
  remove(): void;
}

const timestampedDirectory = '..2026_12_03_15_00_00.000000001';
/** The group Kubernetes' fsGroup gives the volume in deploy/kubernetes/deployment.yaml. */
export const fsGroup = 65534;

/** Probes once whether this process may mount (root with CAP_SYS_ADMIN, not in a restricted sandbox). */
export function mountsPermitted(): boolean {
  if (process.platform !== 'linux' || typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'cliproxy-mount-probe-'));
  const target = join(probe, 'target');
  mkdirSync(target);
  try {
    execFileSync('mount', ['--bind', probe, target], { stdio: 'ignore', timeout: 10_000 });
    execFileSync('umount', [target], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

export interface SecretVolumeFile {
  name: string;
  content: string;
  /** Default 0o440, the manifest's defaultMode. */
  mode?: number;
  /** Default root (0). */
  uid?: number;
}

/**
 * Builds the Secret-shaped tree with `files` under a fresh temp directory and mounts it read-only.
 * `extraLinks` adds visible names pointing anywhere (a link leaving the mount, for the refusals).
 */
export function createSecretVolume(files: readonly SecretVolumeFile[], extraLinks: readonly { name: string; target: string }[] = []): SecretVolume {
  const root = mkdtempSync(join(tmpdir(), 'cliproxy-secret-volume-'));
  const writable = join(root, 'volume');
  const readOnly = join(root, 'mounted');
  mkdirSync(join(writable, timestampedDirectory), { recursive: true });
  mkdirSync(readOnly);
  for (const file of files) {
    const path = join(writable, timestampedDirectory, file.name);
    writeFileSync(path, file.content);
    chownSync(path, file.uid ?? 0, fsGroup);
    chmodSync(path, file.mode ?? 0o440);
    symlinkSync(join('..data', file.name), join(writable, file.name));
  }
  symlinkSync(timestampedDirectory, join(writable, '..data'));
  for (const link of extraLinks) symlinkSync(link.target, join(writable, link.name));
  // The volume's directories as the kubelet leaves them: root-owned, listable.
  chmodSync(writable, 0o755);
  chmodSync(join(writable, timestampedDirectory), 0o755);
  let mounted = false;
  const remove = (): void => {
    if (mounted) {
      execFileSync('umount', [readOnly], { stdio: 'ignore', timeout: 10_000 });
      mounted = false;
    }
    rmSync(root, { recursive: true, force: true });
  };
  try {
    execFileSync('mount', ['--bind', writable, readOnly], { stdio: 'ignore', timeout: 10_000 });
    mounted = true;
    execFileSync('mount', ['-o', 'remount,ro,bind', readOnly], { stdio: 'ignore', timeout: 10_000 });
  } catch (error) {
    remove();
    throw error;
  }
  return { writable, readOnly, remove };
}
