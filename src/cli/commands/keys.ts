import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { ClientKeyError, createClientKey, listClientKeys, revokeClientKey } from '../../security/client-keys.js';
import { openCliAuditLog } from '../cli-audit.js';
import { environmentOf, resolveConfigPath, workingDirectoryOf, type CliIo } from '../cli-io.js';

const configOptionFlags = '-c, --config <file>';
const configOptionHelp = 'config file (default: $CLIPROXY_CONFIG, then ./config.yaml, then the built-in default)';

function loadFor(option: string | undefined, io: CliIo): LoadedConfig {
  const path = resolveConfigPath(option, io);
  return loadConfig({ ...(path === undefined ? {} : { path }), env: environmentOf(io), cwd: workingDirectoryOf(io) });
}

/**
 * `keys create|list|revoke`: manage the client keys kept (as SHA-256 hashes) in
 * `auth.client_keys_file`. A running server sees the change when it reloads that file.
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
  $ cliproxyapi keys list --config /etc/cliproxyapi/config.yaml
  $ cliproxyapi keys revoke alice`,
    );

  keys
    .command('create')
    .description('create a client key and print it once')
    .requiredOption('--id <name>', "key id shown in logs and audit records (letters, digits, '.', '_', '-')")
    .option(configOptionFlags, configOptionHelp)
    .addHelpText('after', '\nExample:\n  $ KEY=$(cliproxyapi keys create --id ci-runner)   # the key alone goes to stdout')
    .action(async (options: { id: string; config?: string }) => {
      const loaded = loadFor(options.config, io);
      const audit = await openCliAuditLog(loaded, io);
      let created;
      try {
        created = createClientKey(loaded, options.id);
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
    .description('list client key ids and where they are defined (never the keys)')
    .option(configOptionFlags, configOptionHelp)
    .action((options: { config?: string }) => {
      const listed = listClientKeys(loadFor(options.config, io));
      if (listed.length === 0) {
        io.stdout("no client keys; create one with 'cliproxyapi keys create --id NAME'\n");
        return;
      }
      const width = Math.max(2, ...listed.map((key) => key.id.length));
      io.stdout(`${'ID'.padEnd(width)}  SOURCE  CREATED\n`);
      for (const key of listed) io.stdout(`${key.id.padEnd(width)}  ${key.source.padEnd(6)}  ${key.created_at ?? '-'}\n`);
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
