import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Throwaway git repositories and script runners for the code-integrity tests. Every repository lives
 * in its own temp dir, ignores the user's global and system git config (so a developer's
 * `secrets.patterns` or hooks cannot change the outcome), and is deleted by `cleanup()`.
 */

/** The repository root of this project (the scripts under test live in `scripts/`). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Upper bound for one script or git run (milliseconds): a hung tool fails the test instead of CI. */
const runTimeoutMs = 30_000;

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Identity {
  name: string;
  email: string;
}

/** Environment that isolates git from the machine's configuration. */
export function isolatedGitEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', ...extra };
  for (const key of Object.keys(environment)) {
    // A GIT_CONFIG_COUNT inherited from a parent process would add configuration we did not choose.
    if (key.startsWith('GIT_CONFIG_KEY_') || key.startsWith('GIT_CONFIG_VALUE_') || key === 'GIT_CONFIG_COUNT') delete environment[key];
    if (key === 'GIT_DIR' || key === 'GIT_WORK_TREE' || key === 'GIT_INDEX_FILE') delete environment[key];
  }
  return environment;
}

/** Runs a command with a time bound; never throws on a non-zero exit. */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string | Buffer }): RunResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? isolatedGitEnvironment(),
    input: options.input,
    encoding: 'utf8',
    timeout: runTimeoutMs,
    killSignal: 'SIGKILL',
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `scripts/<name>` of this project with bash. */
export function runScript(name: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): RunResult {
  return run('bash', [join(projectRoot, 'scripts', name), ...args], {
    cwd: options.cwd ?? projectRoot,
    env: isolatedGitEnvironment(options.env),
  });
}

/** A temp directory removed by `cleanup()`. */
export interface TempDirectory {
  path: string;
  write(relativePath: string, content: string): string;
  cleanup(): void;
}

export function createTempDirectory(prefix: string): TempDirectory {
  const path = mkdtempSync(join(tmpdir(), `cliproxyapi-${prefix}-`));
  return {
    path,
    write(relativePath, content) {
      const file = join(path, relativePath);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
      return file;
    },
    cleanup() {
      // A daemon a test started (gpg-agent, told to stop by `gpgconf --kill`) may still be writing its
      // last file (random_seed) or removing its sockets while this runs: rm then fails with
      // ENOTEMPTY. Node retries those errors, 100 ms apart, until the writer is done.
      rmSync(path, { recursive: true, force: true, maxRetries: 10 });
    },
  };
}

/** A throwaway git repository with helpers to commit as a given author. */
export interface GitSandbox extends TempDirectory {
  git(...args: string[]): RunResult;
  /** Runs git and throws with its stderr on failure (for setup steps that must work). */
  gitOrThrow(...args: string[]): string;
  commitAll(message: string, author: Identity): string;
}

export function createGitSandbox(prefix: string, firstAuthor: Identity): GitSandbox {
  const directory = createTempDirectory(prefix);
  const environmentFor = (author: Identity) =>
    isolatedGitEnvironment({
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
    });
  let currentAuthor = firstAuthor;
  const git = (...args: string[]) => run('git', args, { cwd: directory.path, env: environmentFor(currentAuthor) });
  const gitOrThrow = (...args: string[]) => {
    const result = git(...args);
    if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout.trim();
  };
  gitOrThrow('init', '--quiet', '--initial-branch=main');
  return {
    ...directory,
    git,
    gitOrThrow,
    commitAll(message, author) {
      currentAuthor = author;
      gitOrThrow('add', '--all');
      gitOrThrow('commit', '--quiet', '--allow-empty', '-m', message);
      return gitOrThrow('rev-parse', 'HEAD');
    },
  };
}

/** Whether an executable is on PATH. */
export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

/**
 * Decides whether a suite that needs external tools runs. In CI (`CI=true`) a missing tool is an
 * error, because `.ci/steps/code-integrity.sh` installs them; locally the suite is skipped with a
 * loud message rather than passing silently.
 */
export function toolsPresent(suite: string, tools: string[]): boolean {
  const missing = tools.filter((tool) => !hasTool(tool));
  if (missing.length === 0) return true;
  const message = `${suite}: missing tool(s) ${missing.join(', ')} (install with .ci/steps/code-integrity.sh)`;
  if (process.env['CI'] === 'true') throw new Error(message);
  console.warn(`\n!!! SKIPPED ${message}\n`);
  return false;
}

/** Random characters from `alphabet`: canary secrets are built at run time, never stored. */
export function randomText(length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'): string {
  const bytes = randomBytes(length);
  let text = '';
  for (const byte of bytes) text += alphabet[byte % alphabet.length];
  return text;
}
