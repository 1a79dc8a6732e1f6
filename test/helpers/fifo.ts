import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/**
 * FIFOs for the "a non-regular file must not hang us" tests. A reader that blocks on a FIFO (the
 * defect) blocks either a libuv thread (async open) or the whole event loop (sync open), and a
 * blocked event loop stops every test timeout too. So each FIFO comes with a watchdog process that
 * writes `WATCHDOG` into it after `releaseAfterMs`: a reader that hangs is released then, reads
 * that marker, and the test fails on its assertion (the marker is never what a test expects)
 * instead of hanging the worker. A reader that refuses the FIFO returns at once. Kill the
 * watchdogs in afterEach with {@link stopFifoWatchdogs}.
 */
const watchdogs = new Set<ChildProcess>();

export const fifoWatchdogMarker = 'WATCHDOG';

/** Creates a FIFO at `path` (mode 0600 unless given) with its watchdog. */
export function makeFifoWithWatchdog(path: string, options: { mode?: string; releaseAfterMs?: number } = {}): string {
  const made = spawnSync('mkfifo', ['-m', options.mode ?? '600', path]);
  if (made.status !== 0) throw new Error(`mkfifo ${path} failed: ${made.stderr.toString()}`);
  const seconds = ((options.releaseAfterMs ?? 3_000) / 1000).toFixed(1);
  const watchdog = spawn('sh', ['-c', `sleep ${seconds}; echo ${fifoWatchdogMarker} > "$0"`, path], { stdio: 'ignore' });
  watchdogs.add(watchdog);
  watchdog.on('exit', () => watchdogs.delete(watchdog));
  return path;
}

/** Kills every watchdog still waiting (each blocks opening its FIFO until a reader comes). */
export function stopFifoWatchdogs(): void {
  for (const watchdog of watchdogs) watchdog.kill('SIGKILL');
  watchdogs.clear();
}
