import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Where the CLI writes and what it reads from its surroundings. Injected so commands run
 * in-process in tests (temp dirs, fake env) without spawning a process or touching process.env.
 */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Environment for CLIPROXY_* overrides and CLIPROXY_CONFIG. Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths and ./config.yaml are looked up in. Default: process.cwd(). */
  readonly cwd?: string;
  /** Replaces the lazily imported server entry point (tests). */
  readonly runServe?: (options: { configPath: string | undefined; fixPermissions?: boolean; migrate?: boolean; workers?: number }) => Promise<void>;
  /** Replaces the browser opener of `login` (tests play the browser); returns whether a browser was started. */
  readonly openBrowser?: (url: string) => boolean;
}

/** The real process's streams; `text` already ends with a newline where one is wanted. */
export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/**
 * Thrown by a command that has already printed why it failed and wants a non-zero exit code;
 * the runner turns it into the code without printing anything else.
 */
export class CliExit extends Error {
  readonly exitCode: number;

  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
    this.exitCode = exitCode;
  }
}

export function environmentOf(io: CliIo): Readonly<Record<string, string | undefined>> {
  return io.env ?? process.env;
}

export function workingDirectoryOf(io: CliIo): string {
  return io.cwd ?? process.cwd();
}

/**
 * The config file a command uses, first match wins: `--config FILE`, env CLIPROXY_CONFIG,
 * ./config.yaml when it exists. Undefined means the embedded default. Returned absolute.
 */
export function resolveConfigPath(option: string | undefined, io: CliIo): string | undefined {
  const cwd = workingDirectoryOf(io);
  if (option !== undefined && option !== '') return resolve(cwd, option);
  const fromEnv = environmentOf(io)['CLIPROXY_CONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(cwd, fromEnv);
  const local = resolve(cwd, 'config.yaml');
  return existsSync(local) ? local : undefined;
}
