import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { ClientKeyError, createClientKey, listClientKeys, revokeClientKey, updateClientKey, type ClientKeyListing } from '../../security/client-keys.js';
import { readUsageFile } from '../../usage/usage-store.js';
import { budgetUseByKey } from '../../usage/usage-query.js';
import { addKeyFieldOptions, keyFieldsFrom, type KeyFieldOptions } from './key-fields.js';
import { openCliAuditLog } from '../cli-audit.js';
import { environmentOf, resolveConfigPath, workingDirectoryOf, type CliIo } from '../cli-io.js';

const configOptionFlags = '-c, --config <file>';
const configOptionHelp = 'config file (default: $CLIPROXY_CONFIG, then ./config.yaml, then the built-in default)';

function loadFor(option: string | undefined, io: CliIo): LoadedConfig {
  const path = resolveConfigPath(option, io);
  return loadConfig({ ...(path === undefined ? {} : { path }), env: environmentOf(io), cwd: workingDirectoryOf(io) });
}

/** One line of `keys list`: the scope, expiry and limits in a few words. */
function limitsOf(key: ClientKeyListing): string {
  const parts: string[] = [];
  if (key.rate_limit?.requests_per_minute !== undefined) parts.push(`${key.rate_limit.requests_per_minute} rpm`);
  if (key.rate_limit?.tokens_per_minute !== undefined) parts.push(`${key.rate_limit.tokens_per_minute} tpm`);
  if (key.max_concurrency !== undefined) parts.push(`${key.max_concurrency} at once`);
  if (key.budgets?.tokens_per_day !== undefined) parts.push(`${key.budgets.tokens_per_day}/day`);
  if (key.budgets?.tokens_per_month !== undefined) parts.push(`${key.budgets.tokens_per_month}/month`);
  return parts.length === 0 ? '-' : parts.join(', ');
}

function scopeOf(key: ClientKeyListing): string {
  const parts = [...(key.models === undefined ? [] : [`models ${key.models.join(',')}`]), ...(key.providers === undefined ? [] : [`providers ${key.providers.join(',')}`])];
  return parts.length === 0 ? 'all' : parts.join('; ');
}

/**
 * `keys create|list|update|revoke`: manage the client keys kept (as SHA-256 hashes) in
 * `auth.client_keys_file`, with their scope, expiry, limits and budgets (docs/keys.md). A running
 * server sees the change when it reloads that file (its watch). The management API's api-keys
 * endpoints call the same functions.
 */
export function registerKeysCommand(program: Command, io: CliIo): void {
  const keys = program
    .command('keys')
    .description('manage client API keys')
    .addHelpText(
      'after',
      `
Keys are stored as SHA-256 hashes in auth.client_keys_file (mode 0600). A new key is shown once.

Examples:
  $ cliproxyapi keys create --id alice
  $ cliproxyapi keys create --id search-team --models 'claude-*' --metadata team=search
  $ cliproxyapi keys create --id ci --tokens-per-day 2000000 --max-concurrency 4
  $ cliproxyapi keys create --id contractor --expires-in 30d
  $ cliproxyapi keys update ci --tokens-per-day 5000000
  $ cliproxyapi keys list --config /etc/cliproxyapi/config.yaml
  $ cliproxyapi keys revoke alice`,
    );

  const create = keys
    .command('create')
    .description('create a client key and print it once')
    .requiredOption('--id <name>', "key id shown in logs and audit records (letters, digits, '.', '_', '-')")
    .option(configOptionFlags, configOptionHelp)
    .addHelpText('after', '\nExample:\n  $ KEY=$(cliproxyapi keys create --id ci-runner --tokens-per-day 2000000)   # the key alone goes to stdout');
  addKeyFieldOptions(create, false).action(async (options: KeyFieldOptions & { id: string; config?: string }) => {
      const loaded = loadFor(options.config, io);
      const audit = await openCliAuditLog(loaded, io);
      let created;
      try {
        created = createClientKey(loaded, options.id, keyFieldsFrom(options, Date.now()));
      } catch (error) {
        audit.record({ event_type: 'client-key-create', result: 'failure', actor: 'cli', user_id: options.id, detail: (error as Error).message });
        throw error;
      }
      // The id only: the key itself is shown once on stdout and never recorded.
      audit.record({ event_type: 'client-key-create', result: 'success', actor: 'cli', user_id: created.id });
      io.stdout(`${created.key}\n`);
      io.stderr(`created client key '${created.id}'. It is stored only as a hash and cannot be shown again: copy it now.\n`);
    });

  keys
    .command('list')
    .description('list client keys: source, status, scope, expiry and limits (never the keys or their hashes)')
    .option(configOptionFlags, configOptionHelp)
    .option('--json', 'print JSON (every field, metadata included)')
    .action(async (options: { config?: string; json?: boolean }) => {
      const loaded = loadFor(options.config, io);
      // Budget use as recorded in the usage file (settled usage; at most usage.flush_interval_ms behind a server).
      const use = loaded.config.usage.enabled ? budgetUseByKey(await readUsageFile(loaded.config.usage.file), Date.now()) : new Map<string, { day: number; month: number }>();
      const listed = listClientKeys(loaded).map((key) => ({ ...key, budget_use: use.get(key.id) ?? { day: 0, month: 0 } }));
      if (options.json === true) {
        io.stdout(`${JSON.stringify({ api_keys: listed }, null, 2)}\n`);
        return;
      }
      if (listed.length === 0) {
        io.stdout("no client keys; create one with 'cliproxyapi keys create --id NAME'\n");
        return;
      }
      const rows = listed.map((key) => [key.id, key.source, key.status, scopeOf(key), key.expires_at ?? '-', limitsOf(key), `${key.budget_use.day}/${key.budget_use.month}`, key.created_at ?? '-']);
      const header = ['ID', 'SOURCE', 'STATUS', 'SCOPE', 'EXPIRES', 'LIMITS', 'USED DAY/MONTH', 'CREATED'];
      const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
      for (const row of [header, ...rows]) io.stdout(`${row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')}\n`);
    });

  const update = keys
    .command('update')
    .description('change the scope, expiry, limits or budgets of a key made with "keys create" (the key itself stays)')
    .argument('<id>', 'key id')
    .option(configOptionFlags, configOptionHelp)
    .addHelpText('after', "\nExamples:\n  $ cliproxyapi keys update ci --tokens-per-day 5000000\n  $ cliproxyapi keys update alice --models 'gpt-*' --clear expires_at");
  addKeyFieldOptions(update, true).action(async (id: string, options: KeyFieldOptions & { config?: string }) => {
    const loaded = loadFor(options.config, io);
    const audit = await openCliAuditLog(loaded, io);
    const current = listClientKeys(loaded).find((key) => key.id === id && key.source === 'file');
    let outcome;
    try {
      outcome = updateClientKey(loaded, id, keyFieldsFrom(options, Date.now(), current ?? {}));
    } catch (error) {
      audit.record({ event_type: 'client-key-update', result: 'failure', actor: 'cli', user_id: id, detail: (error as Error).message });
      throw error;
    }
    audit.record({ event_type: 'client-key-update', result: outcome === 'updated' ? 'success' : 'failure', actor: 'cli', user_id: id, ...(outcome === 'updated' ? {} : { detail: outcome }) });
    if (outcome === 'updated') {
      io.stdout(`updated client key '${id}'\n`);
      return;
    }
    if (outcome === 'in-config') {
      throw new ClientKeyError('CLIENT_KEY_IN_CONFIG', `client key '${id}' is defined in ${loaded.configPath ?? 'the config'} under auth.api_keys; change it there (the running server applies it on reload).`);
    }
    throw new ClientKeyError('CLIENT_KEY_NOT_FOUND', `no client key '${id}'`);
  });

  keys
    .command('revoke')
    .description('revoke a client key created with "keys create"')
    .argument('<id>', 'key id')
    .option(configOptionFlags, configOptionHelp)
    .action(async (id: string, options: { config?: string }) => {
      const loaded = loadFor(options.config, io);
      const audit = await openCliAuditLog(loaded, io);
      const outcome = revokeClientKey(loaded, id);
      audit.record({ event_type: 'client-key-revoke', result: outcome === 'revoked' ? 'success' : 'failure', actor: 'cli', user_id: id, ...(outcome === 'revoked' ? {} : { detail: outcome }) });
      if (outcome === 'revoked') {
        io.stdout(`revoked client key '${id}'\n`);
        return;
      }
      // Thrown, not printed here, so these refusals read like every other error: `error: …` and the code.
      if (outcome === 'in-config') {
        throw new ClientKeyError('CLIENT_KEY_IN_CONFIG', `client key '${id}' is defined in ${loaded.configPath ?? 'the config'} under auth.api_keys; remove it there (the running server applies it on reload).`);
      }
      throw new ClientKeyError('CLIENT_KEY_NOT_FOUND', `no client key '${id}'`);
    });
}
