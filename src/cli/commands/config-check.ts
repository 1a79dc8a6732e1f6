import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { environmentOf, workingDirectoryOf, type CliIo } from '../cli-io.js';

/**
 * `config check FILE`: the same load and validation as `serve`, without starting anything, so a
 * deploy pipeline can refuse a bad config before it reaches a running server. Env overrides apply,
 * as they would at startup.
 */
export function registerConfigCommand(program: Command, io: CliIo): void {
  const config = program.command('config').description('inspect configuration');
  config
    .command('check')
    .description('validate a config file and print every problem found')
    .argument('<file>', 'config file to check')
    .addHelpText(
      'after',
      `
Exit code 0 when the config is valid (warnings are printed but do not fail), 1 otherwise.
CLIPROXY_* environment overrides are applied exactly as 'serve' would apply them.

Examples:
  $ cliproxyapi config check config.yaml
  $ CLIPROXY_SERVER_PORT=9000 cliproxyapi config check /etc/cliproxyapi/config.yaml`,
    )
    .action((file: string) => {
      const loaded = loadConfig({ path: file, env: environmentOf(io), cwd: workingDirectoryOf(io) });
      io.stdout(`config OK: ${loaded.configPath ?? file}\n`);
      for (const warning of loaded.warnings) io.stderr(`warning: ${warning}\n`);
    });
}
