import type { OperatorCodeFor } from '../errors/operator-codes.js';

/** Longest problem list kept: a pathological file must not produce an unbounded error message. */
const maxProblems = 100;

/**
 * Thrown when a config (file, env overrides or a key file) is invalid. Carries EVERY problem found,
 * not only the first, so an operator fixes a file in one round instead of one error per restart.
 * Problems name their config path (`server.port: expected integer`) or env variable, never a value
 * that could be a secret.
 */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  /** Catalog code (docs/errors.md, operator errors). */
  readonly code: OperatorCodeFor<'ConfigError'>;

  constructor(sourceName: string, problems: readonly string[], code: OperatorCodeFor<'ConfigError'> = 'CONFIG_INVALID') {
    const kept = problems.slice(0, maxProblems);
    const omitted = problems.length - kept.length;
    const lines = omitted > 0 ? [...kept, `... and ${omitted} more`] : kept;
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`invalid config ${sourceName} (${count}):\n${lines.map((line) => `  - ${line}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...lines]);
    this.code = code;
  }
}

/** Type guard used by the CLI and the composition root to print problems instead of a stack trace. */
export function isConfigError(value: unknown): value is ConfigError {
  return value instanceof ConfigError;
}
