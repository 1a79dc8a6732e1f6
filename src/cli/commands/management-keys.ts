import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { TotpStore } from '../../management/totp-store.js';
import { createManagementKey, listManagementKeys, ManagementKeyError, revokeManagementKey } from '../../security/management-key-file.js';
import { environmentOf, resolveConfigPath, workingDirectoryOf, type CliIo } from '../cli-io.js';

const configOptionFlags = '-c, --config <file>';
const configOptionHelp = 'config file (default: $CLIPROXY_CONFIG, then ./config.yaml, then the built-in default)';

function loadFor(option: string | undefined, io: CliIo): LoadedConfig {
  const path = resolveConfigPath(option, io);
  return loadConfig({ ...(path === undefined ? {} : { path }), env: environmentOf(io), cwd: workingDirectoryOf(io) });
}

/**
 * `management-keys create|list|revoke|totp-reset`: the management API's keys, kept (as SHA-256
 * hashes with their role) in `management.keys_file`. A running server sees a change when it reloads
 * that file (it is watched). Whoever runs these has the host: they are the recovery path when every
 * admin key or its TOTP device is lost.
 */
export function registerManagementKeysCommand(program: Command, io: CliIo): void {
  const keys = program
    .command('management-keys')
    .description('manage management API keys (roles admin, operator, auditor)')
    .addHelpText(
      'after',
      `
Keys are stored as SHA-256 hashes with their role in management.keys_file (mode 0600). A new key is
shown once. Roles: admin (everything), operator (block/unblock IPs, disable providers, reload),
auditor (read-only). The API also needs management.enabled: true.

Examples:
  $ cliproxyapi management-keys create --id ops --role admin
  $ cliproxyapi management-keys list
  $ cliproxyapi management-keys revoke ops
  $ cliproxyapi management-keys totp-reset ops     # lost authenticator: the key enrolls again`,
    );

  keys
    .command('create')
    .description('create a management key and print it once')
    .requiredOption('--id <name>', "key id shown in audit records (letters, digits, '.', '_', '-')")
    .requiredOption('--role <role>', 'admin | operator | auditor')
    .option(configOptionFlags, configOptionHelp)
    .addHelpText('after', '\nExample:\n  $ MGMT_KEY=$(cliproxyapi management-keys create --id ops --role operator)   # the key alone goes to stdout')
    .action((options: { id: string; role: string; config?: string }) => {
      const created = createManagementKey(loadFor(options.config, io).config.management, options.id, options.role);
      io.stdout(`${created.key}\n`);
      io.stderr(`created management key '${created.id}' (role ${created.role}). It is stored only as a hash and cannot be shown again: copy it now.\n`);
    });

  keys
    .command('list')
    .description('list management key ids, roles and where they are defined (never the keys)')
    .option(configOptionFlags, configOptionHelp)
    .action((options: { config?: string }) => {
      const listed = listManagementKeys(loadFor(options.config, io).config.management);
      if (listed.length === 0) {
        io.stdout("no management keys; create one with 'cliproxyapi management-keys create --id NAME --role admin'\n");
        return;
      }
      const width = Math.max(2, ...listed.map((key) => key.id.length));
      io.stdout(`${'ID'.padEnd(width)}  ROLE      SOURCE  CREATED\n`);
      for (const key of listed) io.stdout(`${key.id.padEnd(width)}  ${key.role.padEnd(8)}  ${key.source.padEnd(6)}  ${key.created_at ?? '-'}\n`);
    });

  keys
    .command('revoke')
    .description('revoke a management key created with "management-keys create" (and drop its TOTP secret)')
    .argument('<id>', 'key id')
    .option(configOptionFlags, configOptionHelp)
    .action(async (id: string, options: { config?: string }) => {
      const management = loadFor(options.config, io).config.management;
      const outcome = revokeManagementKey(management, id);
      if (outcome === 'in-config') {
        throw new ManagementKeyError('MANAGEMENT_KEY_IN_CONFIG', `management key '${id}' is defined in the config under management.keys; remove it there (the running server applies it on reload).`);
      }
      if (outcome === 'not-found') throw new ManagementKeyError('MANAGEMENT_KEY_NOT_FOUND', `no management key '${id}'`);
      await new TotpStore(management.totp_file, () => undefined).remove(id);
      io.stdout(`revoked management key '${id}'\n`);
    });

  keys
    .command('totp-reset')
    .description("remove a key's TOTP enrollment (a lost authenticator); the key can enroll again")
    .argument('<id>', 'key id')
    .option(configOptionFlags, configOptionHelp)
    .action(async (id: string, options: { config?: string }) => {
      const management = loadFor(options.config, io).config.management;
      if (!listManagementKeys(management).some((key) => key.id === id)) throw new ManagementKeyError('MANAGEMENT_KEY_NOT_FOUND', `no management key '${id}'`);
      const removed = await new TotpStore(management.totp_file, () => undefined).remove(id);
      io.stdout(removed ? `removed the TOTP enrollment of '${id}'\n` : `'${id}' had no TOTP enrollment\n`);
    });
}
