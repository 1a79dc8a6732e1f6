import type { CliIo } from '../../src/cli/cli-io.js';
import { runCli } from '../../src/cli/main.js';

/** What one in-process CLI run printed and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process in `cwd` with an empty environment (nothing inherited from the test
 * runner) unless `extra` supplies one, capturing both streams.
 */
export async function runCliCaptured(args: string[], cwd: string, extra: Partial<CliIo> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: {}, cwd, ...extra };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}
