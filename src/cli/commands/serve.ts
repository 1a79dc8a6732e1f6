import type { Command } from 'commander';
import { resolveConfigPath, type CliIo } from '../cli-io.js';

/**
 * `serve`: start the proxy. The server module is imported lazily so `--help`, `keys` and
 * `config check` start fast and do not load fastify, undici or provider code.
 */
export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('start the proxy server')
    .option('-c, --config <file>', 'config file (default: $CLIPROXY_CONFIG, then ./config.yaml, then the built-in default)')
    .option('--fix-permissions', 'repair insecure modes of the credential dir, key file and a config holding secrets (audited) instead of refusing to start')
    .option('--migrate', 'encrypt plaintext credential files found in auth.dir instead of refusing to start')
    .addHelpText(
      'after',
      `
With no config file the proxy starts on 127.0.0.1:8317 with a ./data directory it creates (0700):
a generated client key, printed once (only its SHA-256 hash is stored, in ./data/client-keys.json),
an encryption key for stored credentials (./data/encryption.key, 0600) and ./data/auths/ (0700).
A config file that holds secrets must be mode 0600 (see --fix-permissions).

Examples:
  $ cliproxyapi serve
  $ cliproxyapi serve --config /etc/cliproxyapi/config.yaml
  $ CLIPROXY_SERVER_PORT=9000 cliproxyapi serve -c config.yaml`,
    )
    .action(async (options: { config?: string; fixPermissions?: boolean; migrate?: boolean }) => {
      const configPath = resolveConfigPath(options.config, io);
      const runServe = io.runServe ?? (await import('../../main.js')).runServe;
      await runServe({ configPath, fixPermissions: options.fixPermissions === true, migrate: options.migrate === true });
    });
}
