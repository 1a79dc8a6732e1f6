import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliIo } from '../cli-io.js';

/**
 * The version from package.json, found relative to this file: `src/cli/commands/` in development
 * and `dist/cli/commands/` when built are both three levels below the package root.
 */
export function packageVersion(): string {
  const packageJsonUrl = new URL('../../../package.json', import.meta.url);
  const parsed: unknown = JSON.parse(readFileSync(packageJsonUrl, 'utf8'));
  const version = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>)['version'] : undefined;
  return typeof version === 'string' ? version : 'unknown';
}

export function registerVersionCommand(program: Command, io: CliIo): void {
  program
    .command('version')
    .description('print the version')
    .action(() => {
      io.stdout(`cliproxyapi ${packageVersion()}\n`);
    });
}
