import { availableParallelism } from 'node:os';

/** More processes than this is a typo, not a deployment (each worker holds a full gateway: ~60 MB). */
export const maxWorkers = 64;

/**
 * `serve --workers N`: a whole number from 1 to {@link maxWorkers}, or `auto` (the cores this
 * process may use, `os.availableParallelism()`). Anything else is an error that names the value and
 * says what is accepted; a value is never rounded or clamped.
 */
export function parseWorkersOption(value: string, cores: () => number = availableParallelism): number {
  const trimmed = value.trim();
  if (trimmed === 'auto') return Math.max(1, Math.min(maxWorkers, cores()));
  if (!/^[0-9]+$/.test(trimmed)) {
    throw new Error(`--workers must be a whole number from 1 to ${maxWorkers}, or "auto" (the number of cores); got "${value}"`);
  }
  const workers = Number(trimmed);
  if (workers < 1 || workers > maxWorkers) {
    throw new Error(`--workers must be from 1 to ${maxWorkers} (or "auto"); got ${trimmed}`);
  }
  return workers;
}
