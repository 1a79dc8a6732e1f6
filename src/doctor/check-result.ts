import type { ConfigInspection } from '../config/load.js';
import type { ReadonlyConfig } from '../config/schema.js';

/**
 * What one doctor check found. `pass`: nothing to do. `warn`: works, but weaker than the hardened
 * posture (fails the run only with --strict). `fail`: unsafe or would not start (fails the run).
 * `skip`: does not apply here (outside a container, no --url, a check it depends on failed), with why.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable id (`tls`, `audit-chain`), listed in docs/doctor.md: what a pipeline greps or filters on. */
  readonly id: string;
  readonly status: CheckStatus;
  /** One line: what was found. Never a secret (the report goes through the redactor anyway). */
  readonly message: string;
  /** What to do about it; present for every status but pass. */
  readonly fix?: string;
  /** Further lines (each problem of a config error, each insecure path with its own fix). */
  readonly details?: readonly string[];
}

/** What every check may read. Built once by run-doctor.ts; checks change nothing in it or on disk. */
export interface DoctorContext {
  readonly inspection: ConfigInspection;
  /** The config when its shape is valid (possibly with problems the checks report); undefined otherwise. */
  readonly config: ReadonlyConfig | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly now: Date;
  /** `--replicas N`: how many copies of the proxy the deployment runs (default 1). */
  readonly replicas: number;
  /** `--workers N`: `serve --workers` per replica (default 1). */
  readonly workers: number;
  /** `--url URL`: the running proxy, for the post-deployment checks. */
  readonly url: string | undefined;
  /** `--container auto|yes|no`: whether the container checks judge this process. */
  readonly containerMode: 'auto' | 'yes' | 'no';
}

export function pass(id: string, message: string, details?: readonly string[]): CheckResult {
  return details === undefined ? { id, status: 'pass', message } : { id, status: 'pass', message, details };
}

export function warn(id: string, message: string, fix: string, details?: readonly string[]): CheckResult {
  return details === undefined ? { id, status: 'warn', message, fix } : { id, status: 'warn', message, fix, details };
}

export function fail(id: string, message: string, fix: string, details?: readonly string[]): CheckResult {
  return details === undefined ? { id, status: 'fail', message, fix } : { id, status: 'fail', message, fix, details };
}

export function skip(id: string, message: string, fix?: string): CheckResult {
  return fix === undefined ? { id, status: 'skip', message } : { id, status: 'skip', message, fix };
}

/** A check's result when the config's shape is invalid: it has nothing to read. */
export function skipWithoutConfig(id: string): CheckResult {
  return skip(id, 'the config does not match the schema, so this cannot be checked', 'fix the problems of the config check first');
}
