import type { Command } from 'commander';
import { resolve } from 'node:path';
import { createCredentialService, type CredentialSelector } from '../../credentials/credential-service.js';
import { importCredentialFile } from '../../credentials/import.js';
import { writePrivateFile } from '../../files/private-file.js';
import { readRegularFile } from '../../files/read-file.js';
import { pathExists } from '../../files/secret-path-check.js';
import { prepareCredentialStore } from '../../credentials/startup-checks.js';
import { CliExit, environmentOf, workingDirectoryOf, type CliIo } from '../cli-io.js';
import { cliSecurityEvents, configOptionFlags, configOptionHelp, loadConfigFor, openStoreFor, printingStartupErrors } from './encryption.js';

function fail(io: CliIo, message: string): never {
  io.stderr(`error: ${message}\n`);
  throw new CliExit(1);
}

function selectorFrom(io: CliIo, id: string | undefined, options: { account?: string; all?: boolean }, allowAll: boolean): CredentialSelector {
  const given = [id !== undefined, options.account !== undefined, options.all === true].filter(Boolean).length;
  if (given !== 1) fail(io, `name exactly one of: an ID, --account EMAIL${allowAll ? ', --all' : ''}`);
  if (id !== undefined) return { id };
  if (options.account !== undefined) return { account: options.account };
  return { all: true };
}

/** Columns padded to their widest cell, two spaces apart. */
function formatTable(rows: readonly string[][]): string {
  const widths = rows[0]?.map((_cell, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => `${row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')}\n`).join('');
}

/** A passphrase file's content without its trailing newline, in a Buffer the caller zero-fills. */
async function readPassphrase(path: string): Promise<Buffer> {
  const { content } = await readRegularFile(path, { maxBytes: 4096 });
  let end = content.length;
  while (end > 0 && (content[end - 1] === 0x0a || content[end - 1] === 0x0d)) end -= 1;
  const passphrase = Buffer.from(content.subarray(0, end));
  content.fill(0);
  return passphrase;
}

/**
 * `creds list|import|export|delete|check`: the encrypted credential store and the GDPR operations
 * (the management API calls the same service). Secrets are never printed, except an export the
 * admin sends to stdout explicitly with `--out -`.
 */
export function registerCredsCommand(program: Command, io: CliIo): void {
  const creds = program
    .command('creds')
    .description('manage stored upstream credentials (encrypted in auth.dir)')
    .addHelpText(
      'after',
      `
Examples:
  $ cliproxyapi creds import ~/.cli-proxy-api/claude-me@example.com.json --delete-source
  $ cliproxyapi creds import openai-key.txt --provider openai
  $ cliproxyapi creds list
  $ cliproxyapi creds export --account me@example.com --passphrase-file pass.txt --out export.json
  $ cliproxyapi creds delete --account me@example.com`,
    );

  creds
    .command('list')
    .description('list stored credentials (ids, providers, accounts, expiry; never a secret)')
    .option(configOptionFlags, configOptionHelp)
    .action(async (options: { config?: string }) => {
      const loaded = loadConfigFor(options.config, io);
      const events = await cliSecurityEvents(loaded, io, { readOnly: true });
      const store = await openStoreFor(loaded, io, events);
      const scan = await createCredentialService({ store, events, actor: 'cli' }).list();
      if (scan.credentials.length === 0 && scan.unreadable.length === 0) io.stdout("no stored credentials; import one with 'cliproxyapi creds import FILE'\n");
      else if (scan.credentials.length === 0) io.stdout('no readable credentials\n');
      else {
        const rows = scan.credentials.map((entry) => [
          entry.id,
          entry.provider,
          entry.kind,
          entry.email ?? '-',
          entry.expires_at === undefined ? '-' : new Date(entry.expires_at).toISOString(),
          entry.kid,
          entry.updated_at,
        ]);
        io.stdout(formatTable([['ID', 'PROVIDER', 'KIND', 'EMAIL', 'EXPIRES', 'KEY', 'UPDATED'], ...rows]));
      }
      for (const problem of scan.unreadable) io.stderr(`unreadable: ${problem.message}\n`);
      store.keyring.destroy();
      // An unreadable file is a credential the proxy cannot use (often the wrong key): never a silent success.
      if (scan.unreadable.length > 0) {
        const total = scan.credentials.length + scan.unreadable.length;
        fail(io, `${scan.unreadable.length} of ${total} credential file(s) in ${loaded.config.auth.dir} cannot be read (see above; a wrong encryption key makes every file unreadable)`);
      }
    });

  creds
    .command('import')
    .description("encrypt the Go proxies' plain JSON auth files, or files holding one API key, into the store")
    .argument('<files...>', 'auth files (JSON with type, access_token, refresh_token, …) or one-line API key files')
    .option('--provider <name>', 'provider under providers: in config (default: the file\'s "type"; required for a plain key)')
    .option('--delete-source', 'remove each plaintext file once its encrypted copy reads back')
    .option('--replace', 'overwrite a stored credential with the same id')
    .option(configOptionFlags, configOptionHelp)
    .action(async (files: string[], options: { provider?: string; deleteSource?: boolean; replace?: boolean; config?: string }) => {
      const loaded = loadConfigFor(options.config, io);
      const events = await cliSecurityEvents(loaded, io);
      const store = await openStoreFor(loaded, io, events);
      let failed = 0;
      for (const file of files) {
        const source = resolve(workingDirectoryOf(io), file);
        try {
          const imported = await importCredentialFile(store, source, {
            ...(options.provider === undefined ? {} : { provider: options.provider }),
            deleteSource: options.deleteSource === true,
            replace: options.replace === true,
          });
          events.record({ event_type: 'credential-import', result: 'success', actor: 'cli', credential_ids: [imported.id], detail: `${source}${imported.sourceDeleted ? ' (source deleted)' : ''}` });
          io.stdout(`imported ${imported.id} (${imported.provider}, ${imported.kind})${imported.sourceDeleted ? '; source deleted' : ''}\n`);
          if (!Object.hasOwn(loaded.config.providers, imported.provider)) {
            io.stderr(`warning: provider '${imported.provider}' is not under providers: in the config; '${imported.id}' is stored but unused until it is (or re-import with --provider NAME --replace)\n`);
          }
        } catch (error) {
          failed += 1;
          events.record({ event_type: 'credential-import', result: 'failure', actor: 'cli', detail: (error as Error).message });
          io.stderr(`error: ${(error as Error).message}\n`);
        }
      }
      store.keyring.destroy();
      if (failed > 0) throw new CliExit(1);
    });

  creds
    .command('export')
    .description('export credentials WITH their secrets (data portability): to a 0600 file, or stdout with --out -')
    .argument('[id]', 'credential id')
    .option('--account <email>', 'every credential of this account')
    .option('--all', 'every credential')
    .option('--passphrase-file <file>', 'encrypt the export (scrypt + AES-256-GCM) with the passphrase in this file')
    .option('--out <file>', "where to write the export (mode 0600); '-' for stdout")
    .option(configOptionFlags, configOptionHelp)
    .action(async (id: string | undefined, options: { account?: string; all?: boolean; passphraseFile?: string; out?: string; config?: string }) => {
      const selector = selectorFrom(io, id, options, true);
      if (options.out === undefined) fail(io, "pass --out FILE (written with mode 0600), or --out - to print the export to stdout");
      const target = options.out === '-' ? undefined : resolve(workingDirectoryOf(io), options.out);
      if (target !== undefined && (await pathExists(target))) fail(io, `${target} exists; choose another --out file`);
      const loaded = loadConfigFor(options.config, io);
      const events = await cliSecurityEvents(loaded, io);
      const store = await openStoreFor(loaded, io, events);
      const passphrase = options.passphraseFile === undefined ? undefined : await readPassphrase(resolve(workingDirectoryOf(io), options.passphraseFile));
      try {
        const exported = await createCredentialService({ store, events, actor: 'cli' }).export(selector, passphrase === undefined ? {} : { passphrase });
        if (target === undefined) io.stdout(exported.content.toString('utf8'));
        else await writePrivateFile(target, exported.content);
        exported.content.fill(0);
        io.stderr(`exported ${exported.ids.length} credential(s)${exported.encrypted ? ', passphrase-encrypted' : ', UNENCRYPTED'}${target === undefined ? '' : ` to ${target} (mode 0600)`}\n`);
      } finally {
        passphrase?.fill(0);
        store.keyring.destroy();
      }
    });

  creds
    .command('delete')
    .description('erase credentials (right to erasure): removes the files; restart a running proxy so it drops its in-memory copies')
    .argument('[id]', 'credential id')
    .option('--account <email>', 'every credential of this account')
    .option(configOptionFlags, configOptionHelp)
    .action(async (id: string | undefined, options: { account?: string; config?: string }) => {
      const selector = selectorFrom(io, id, options, false) as { id: string } | { account: string };
      const loaded = loadConfigFor(options.config, io);
      const events = await cliSecurityEvents(loaded, io);
      const store = await openStoreFor(loaded, io, events);
      try {
        const deleted = await createCredentialService({ store, events, actor: 'cli' }).delete(selector);
        io.stdout(`deleted ${deleted.join(', ')}\n`);
      } finally {
        store.keyring.destroy();
      }
    });

  creds
    .command('check')
    .description('run the startup checks of the credential store (permissions, key, plaintext files)')
    .option('--fix-permissions', 'repair file and directory modes (audited)')
    .option('--migrate', 'encrypt plaintext credential files found in auth.dir, in place')
    .option(configOptionFlags, configOptionHelp)
    .action(async (options: { fixPermissions?: boolean; migrate?: boolean; config?: string }) => {
      const loaded = loadConfigFor(options.config, io);
      const events = await cliSecurityEvents(loaded, io);
      const prepared = await printingStartupErrors(io, () =>
        prepareCredentialStore(loaded, {
          env: environmentOf(io),
          events,
          fixPermissions: options.fixPermissions === true,
          migrate: options.migrate === true,
          actor: 'cli',
        }),
      );
      for (const warning of prepared.warnings) io.stderr(`warning: ${warning}\n`);
      const count = (await prepared.store.list()).length;
      io.stdout(`credential store OK: ${loaded.config.auth.dir} (${count} credential(s))\n`);
      prepared.encryptedStore?.keyring.destroy();
    });
}
