import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../config/load.js';
import { readUsageFile } from '../../usage/usage-store.js';
import { parseSince, summarizeUsage, usageTable, type UsageDimension } from '../../usage/usage-query.js';
import { environmentOf, resolveConfigPath, workingDirectoryOf, type CliIo } from '../cli-io.js';

const dimensions: readonly UsageDimension[] = ['provider', 'model', 'credential'];

/**
 * `usage`: token usage per client key from `usage.file` (what a running server has flushed, at most
 * `usage.flush_interval_ms` behind), the same summary as `GET /v0/management/usage`.
 */
export function registerUsageCommand(program: Command, io: CliIo): void {
  program
    .command('usage')
    .description('token usage per client key (and per provider, model or upstream credential)')
    .option('--key <id>', 'only this client key')
    .option('--since <duration>', 'how far back: 7d, 24h, 90m', '7d')
    .option('--by <dimension>', 'split by provider, model or credential (which upstream account is drained)')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'config file (default: $CLIPROXY_CONFIG, then ./config.yaml, then the built-in default)')
    .addHelpText('after', '\nExamples:\n  $ cliproxyapi usage --since 24h\n  $ cliproxyapi usage --key ci --by credential --json')
    .action(async (options: { key?: string; since: string; by?: string; json?: boolean; config?: string }) => {
      const sinceMs = parseSince(options.since);
      if (sinceMs === undefined) throw new InvalidArgumentError(`--since '${options.since}': use a number and d, h or m (7d)`);
      if (options.by !== undefined && !(dimensions as readonly string[]).includes(options.by)) throw new InvalidArgumentError(`--by '${options.by}': use provider, model or credential`);
      const by = options.by as UsageDimension | undefined;
      const path = resolveConfigPath(options.config, io);
      const loaded = loadConfig({ ...(path === undefined ? {} : { path }), env: environmentOf(io), cwd: workingDirectoryOf(io) });
      const since = Date.now() - sinceMs;
      const rows = summarizeUsage(await readUsageFile(loaded.config.usage.file), { ...(options.key === undefined ? {} : { key: options.key }), since, ...(by === undefined ? {} : { by }) });
      if (options.json === true) {
        io.stdout(`${JSON.stringify({ since: new Date(since).toISOString(), ...(by === undefined ? {} : { by }), usage: rows }, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        io.stdout(`no usage recorded since ${new Date(since).toISOString()}\n`);
        return;
      }
      io.stdout(usageTable(rows, by));
    });
}
