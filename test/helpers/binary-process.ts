import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root and the built binary (`npm test`'s global setup builds it first). */
export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const binaryPath = resolve(repositoryRoot, 'dist/cli/main.js');

/** A spawned process with its combined output, the URL it announces once listening, and its exit. */
export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with `http://127.0.0.1:PORT` from the "cliproxyapi listening" log line; rejects if it exits first. */
  url: Promise<string>;
  /** Resolves with the exit code once the process exited AND every holder of its pipes closed them. */
  closed: Promise<number | null>;
}

/** Spawns `command` with piped output; the caller kills what is left in afterEach. */
export function spawnWatched(command: string, args: readonly string[], options: SpawnOptions): RunningProcess {
  const child = spawn(command, [...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let resolveUrl: (url: string) => void = () => undefined;
  let rejectUrl: (error: Error) => void = () => undefined;
  const url = new Promise<string>((resolvePromise, rejectPromise) => {
    resolveUrl = resolvePromise;
    rejectUrl = rejectPromise;
  });
  // Handled here so a test that never asks for the URL (a refused start) has no unhandled rejection.
  url.catch(() => undefined);
  const take = (piece: Buffer) => {
    output += piece.toString();
    const match = /"url":"(http:\/\/[^"]+)","config"/.exec(output);
    if (match?.[1] !== undefined) resolveUrl(match[1]);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  // 'close' waits for the pipes: a grandchild still holding them (a server outliving npm) keeps it pending.
  const closed = once(child, 'close').then(([code]) => code as number | null);
  // A process that exits without announcing a URL ends the wait for it at once, saying why.
  void closed.then((code) => rejectUrl(new Error(`exited (${code ?? child.signalCode ?? '?'}) before listening:\n${output.slice(-2_000)}`)));
  return { child, output: () => output, url, closed };
}

/** Runs the built binary with a minimal environment (no inherited CLIPROXY_* from the test runner). */
export function runBinary(args: readonly string[], cwd: string, env: Record<string, string> = {}): RunningProcess {
  return spawnWatched(process.execPath, [binaryPath, ...args], { cwd, env: { PATH: process.env.PATH ?? '', CLIPROXY_SERVER_PORT: '0', ...env } });
}

/** `promise`, or a rejection naming `what` after `milliseconds`. */
export async function within<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), milliseconds)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every 100 ms until it holds, or throws naming `what`. */
export async function until(check: () => boolean | Promise<boolean>, milliseconds: number, what: string): Promise<void> {
  const deadline = Date.now() + milliseconds;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The live children of `pid` (Linux: /proc/PID/task/PID/children), empty once it is gone. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter((word) => word !== '').map(Number);
  } catch {
    return [];
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Kills `running` and the processes it started (the workers of `serve --workers`) and resolves once
 * every one of them has exited and closed the output pipes they share (`closed`). Only then may a
 * test remove their work directory: a worker left behind by a killed primary goes on writing its
 * logs there for a moment (rm then fails with ENOTEMPTY). The parent is stopped first so it cannot
 * fork a replacement between the read of its children and its death; the children are the live ones
 * at that moment (a dead worker's pid may already belong to someone else: pids wrap at 32768 here).
 */
export async function stopProcessTree(running: RunningProcess, milliseconds = 20_000): Promise<void> {
  const pid = running.child.pid;
  if (pid !== undefined && running.child.exitCode === null && running.child.signalCode === null) {
    killQuietly(pid, 'SIGSTOP');
    for (const child of childrenOf(pid)) killQuietly(child, 'SIGKILL');
    killQuietly(pid, 'SIGKILL');
  }
  await within(running.closed, milliseconds, `process ${pid ?? '?'} and its children to exit`);
}
