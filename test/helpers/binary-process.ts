import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root and the built binary (`npm test`'s global setup builds it first). */
export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const binaryPath = resolve(repositoryRoot, 'dist/cli/main.js');

/** A spawned process with its combined output, the URL it announces once listening, and its exit. */
export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with `http://127.0.0.1:PORT` from the "cliproxyapi listening" log line. */
  url: Promise<string>;
  /** Resolves with the exit code once the process exited AND every holder of its pipes closed them. */
  closed: Promise<number | null>;
}

/** Spawns `command` with piped output; the caller kills what is left in afterEach. */
export function spawnWatched(command: string, args: readonly string[], options: SpawnOptions): RunningProcess {
  const child = spawn(command, [...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let resolveUrl: (url: string) => void = () => undefined;
  const url = new Promise<string>((resolvePromise) => (resolveUrl = resolvePromise));
  const take = (piece: Buffer) => {
    output += piece.toString();
    const match = /"url":"(http:\/\/[^"]+)","config"/.exec(output);
    if (match?.[1] !== undefined) resolveUrl(match[1]);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  // 'close' waits for the pipes: a grandchild still holding them (a server outliving npm) keeps it pending.
  const closed = once(child, 'close').then(([code]) => code as number | null);
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
