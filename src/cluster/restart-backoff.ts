/**
 * How long the primary waits before replacing a worker that exited. A worker that crashes right
 * after it starts (a bad file it reads at start, a bug on a common request) would otherwise be
 * forked in a tight loop, each fork costing a full start; one that ran a while restarts at once.
 *
 * `quickExits` counts the slot's consecutive exits that came less than `stableAfterMs` after
 * their start: 0 → 100 ms, then 1 s, 2 s, 4 s … capped at 30 s.
 */
export const stableAfterMs = 10_000;
export const maxRestartDelayMs = 30_000;

export function restartDelayMs(quickExits: number): number {
  if (quickExits <= 0) return 100;
  return Math.min(maxRestartDelayMs, 1_000 * 2 ** (quickExits - 1));
}
