import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

/**
 * podman + runc helpers for the container test. Every call is bounded in time, and every container
 * gets a name so `removeContainer` can clean it up even when a test fails half-way. Flags always
 * come before `--rootfs DIR`: podman reads everything after the rootfs as the command.
 */

/**
 * The posture under test, exactly as deploy/docker-compose.yml sets it (see deployment.md).
 * `seccompProfile` is a profile file, or 'podman-default' for the control run that shows what the
 * derived profile adds over podman's built-in one.
 */
export function hardenedFlags(seccompProfile: string): string[] {
  const seccomp = seccompProfile === 'podman-default' ? [] : ['--security-opt', `seccomp=${resolve(seccompProfile)}`];
  return [
    '--read-only',
    // podman adds its own exec-able tmpfs on /tmp, /var/tmp and /run under --read-only; turn that
    // off and mount the one /tmp the compose file declares.
    '--read-only-tmpfs=false',
    '--tmpfs', '/tmp:rw,noexec,nosuid,nodev,size=100m,mode=1777',
    '--cap-drop', 'ALL',
    '--user', '65534:65534',
    '--security-opt', 'no-new-privileges',
    ...seccomp,
    // Root on this kind of machine lacks CAP_SYS_RESOURCE: limits must be explicit and not above the hard ones.
    '--ulimit', 'nofile=1024:1024',
    '--ulimit', 'nproc=1024:1024',
    '--pids-limit', '256',
    '--memory', '512m',
    '--network', 'host',
  ];
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, killed after `timeoutMs`; never throws on a non-zero exit. */
export function runCommand(command: string, args: string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolveResult) => {
    execFile(command, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolveResult({ code, stdout, stderr });
    });
  });
}

/** `podman --runtime runc run --rm --name NAME FLAGS --rootfs DIR COMMAND…`, bounded in time. */
export function podmanRun(name: string, flags: string[], rootfs: string, command: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return runCommand('podman', ['--runtime', 'runc', 'run', '--rm', '--name', name, ...flags, '--rootfs', rootfs, ...command], timeoutMs);
}

export interface RunningContainer {
  name: string;
  process: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

/** Starts a long-running container (the server) in the background; stop it with `removeContainer`. */
export function podmanStart(name: string, flags: string[], rootfs: string, command: string[]): RunningContainer {
  const child = spawn('podman', ['--runtime', 'runc', 'run', '--rm', '--name', name, ...flags, '--rootfs', rootfs, ...command], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { name, process: child, output: () => output, exit };
}

/**
 * Force-removes a container by name (ignores "no such container"). A second try: when a process
 * cannot exit (a profile without exit_group leaves Node hanging), podman's first `rm --force`
 * can fail with "container state improper" after it has killed the process.
 */
export async function removeContainer(name: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const removed = await runCommand('podman', ['rm', '--force', '--time', '0', name], 30_000);
    if (removed.code === 0 || /no such container/i.test(removed.stderr)) return;
  }
}

/**
 * Whether podman can run a container here at all, tried for real on `rootfs` with the minimal
 * flags this machine needs. Returns the reason when it cannot.
 */
export async function podmanUnavailableReason(rootfs: string): Promise<string | undefined> {
  const version = await runCommand('podman', ['--version'], 10_000);
  if (version.code !== 0) return `podman is not installed (${version.stderr.trim() || 'not found'})`;
  const runc = await runCommand('runc', ['--version'], 10_000);
  if (runc.code !== 0) return `runc is not installed (${runc.stderr.trim() || 'not found'})`;
  const probe = await podmanRun(`cliproxy-probe-${process.pid}`, ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--network', 'host'], rootfs, ['/nodejs/bin/node', '-e', 'process.exit(0)'], 60_000);
  if (probe.code !== 0) return `podman --runtime runc run failed on a trivial rootfs: ${(probe.stderr || probe.stdout).trim().slice(0, 500)}`;
  return undefined;
}
