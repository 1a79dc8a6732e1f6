import cluster from 'node:cluster';
import { InvalidArgumentError, type Command } from 'commander';
import { resolveConfigPath, type CliIo } from '../cli-io.js';
import { workerEnvironmentName } from '../../cluster/messages.js';
import { parseWorkersOption } from '../workers-option.js';

interface ServeOptions {
  config?: string;
  fixPermissions?: boolean;
  migrate?: boolean;
  workers: number;
}

/**
 * `serve`: start the proxy. The server module is imported lazily so `--help`, `keys` and
 * `config check` start fast and do not load fastify, undici or provider code. With `--workers N`
 * (N > 1) this process becomes the cluster's primary (src/cluster/primary.ts) and forks N workers
 * that run this same command marked as workers (src/cluster/worker.ts).
 */
export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('start the proxy server')
    .option('-c, --config <file>', 'config file (default: $CLIPROXY_CONFIG, then ./config.yaml, then the built-in default)')
    .option('--fix-permissions', 'repair insecure modes of the credential dir, key file and a config holding secrets (audited) instead of refusing to start')
    .option('--migrate', 'encrypt plaintext credential files found in auth.dir instead of refusing to start')
    .option(
      '-w, --workers <n>',
      'worker processes sharing the port: 1 to 64, or "auto" (one per core)',
      (value: string) => {
        try {
          return parseWorkersOption(value);
        } catch (error) {
          throw new InvalidArgumentError((error as Error).message);
        }
      },
      1,
    )
    .addHelpText(
      'after',
      `
With no config file the proxy starts on 127.0.0.1:8317 with a ./data directory it creates (0700):
a generated client key, printed once (only its SHA-256 hash is stored, in ./data/client-keys.json),
an encryption key for stored credentials (./data/encryption.key, 0600) and ./data/auths/ (0700).
A config file that holds secrets must be mode 0600 (see --fix-permissions).

One process uses one core. --workers N runs N processes on the one port (the primary accepts and
hands connections out). Limits, bans, OAuth refresh locks and credential cooldowns stay exact
across them: with state.backend memory the primary holds the one store and the workers ask it;
with redis every worker uses Redis. The primary watches the config (workers reload together),
replaces a worker that dies, and on SIGTERM lets every worker finish its requests. The per-IP
connection cap (server.max_connections_per_ip) counts per worker.

Examples:
  $ cliproxyapi serve
  $ cliproxyapi serve --config /etc/cliproxyapi/config.yaml
  $ cliproxyapi serve --config config.yaml --workers auto
  $ CLIPROXY_SERVER_PORT=9000 cliproxyapi serve -c config.yaml`,
    )
    .action(async (options: ServeOptions) => {
      const configPath = resolveConfigPath(options.config, io);
      const fixPermissions = options.fixPermissions === true;
      const migrate = options.migrate === true;
      if (io.runServe !== undefined) {
        await io.runServe({ configPath, fixPermissions, migrate, workers: options.workers });
        return;
      }
      if (cluster.isWorker && process.env[workerEnvironmentName] === '1') {
        await (await import('../../cluster/worker.js')).runClusterWorker({ configPath });
      } else if (options.workers > 1) {
        await (await import('../../cluster/primary.js')).runClusterPrimary({ configPath, workers: options.workers, fixPermissions, migrate });
      } else {
        await (await import('../../main.js')).runServe({ configPath, fixPermissions, migrate });
      }
    });
}
