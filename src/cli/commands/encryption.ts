import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { listCredentialFileIds, type EncryptedFileStore } from '../../credentials/file-store.js';
import { generateKey, writeKeyFile } from '../../credentials/keyring.js';
import { pathExists } from '../../files/secret-path-check.js';
import { maximumRotationPauseMs, rotateEncryptionKey } from '../../credentials/rotate.js';
import type { SecurityEventSink } from '../../credentials/security-events.js';
import { lazyCliAuditLog, openCliAuditLog } from '../cli-audit.js';
import { CredentialStartupError, prepareCredentialStore } from '../../credentials/startup-checks.js';
import { CliExit, environmentOf, resolveConfigPath, workingDirectoryOf, type CliIo } from '../cli-io.js';

export const configOptionFlags = '-c, --config <file>';
export const configOptionHelp = 'config file (default: $CLIPROXY_CONFIG, then ./config.yaml, then the built-in default)';

export function loadConfigFor(option: string | undefined, io: CliIo): LoadedConfig {
  const path = resolveConfigPath(option, io);
  return loadConfig({ ...(path === undefined ? {} : { path }), env: environmentOf(io), cwd: workingDirectoryOf(io) });
}

/**
 * The command's audit log (cli-audit.ts): the server's chain, flushed when the command ends.
 * `readOnly`: opened only if something is recorded (a status command creates no file).
 */
export async function cliSecurityEvents(loaded: LoadedConfig, io: CliIo, options: { readOnly?: boolean } = {}): Promise<SecurityEventSink> {
  return options.readOnly === true ? lazyCliAuditLog(loaded, io) : openCliAuditLog(loaded, io);
}

/** Runs `prepare`; a refusal prints every problem line (each with its fix) and exits 1. */
export async function printingStartupErrors<T>(io: CliIo, prepare: () => Promise<T>): Promise<T> {
  try {
    return await prepare();
  } catch (error) {
    if (!(error instanceof CredentialStartupError)) throw error;
    io.stderr('error: the credential store refused to start:\n');
    for (const problem of error.problems) io.stderr(`  ${problem}\n`);
    io.stderr(`code: ${error.code} (docs/errors.md)\n`);
    throw new CliExit(1);
  }
}

/**
 * Opens the encrypted store for a maintenance command: the same permission and key checks as
 * `serve`, but plaintext files are reported instead of refusing (the command may be the fix).
 */
export async function openStoreFor(loaded: LoadedConfig, io: CliIo, events: SecurityEventSink, options: { readOnly?: boolean } = {}): Promise<EncryptedFileStore> {
  const prepared = await printingStartupErrors(io, () =>
    prepareCredentialStore(loaded, { env: environmentOf(io), events, allowPlaintext: true, actor: 'cli', readOnly: options.readOnly === true }),
  );
  for (const warning of prepared.warnings) io.stderr(`warning: ${warning}\n`);
  if (prepared.encryptedStore === undefined) {
    io.stderr('error: auth.encryption.enabled is false; the encrypted credential store is off\n');
    throw new CliExit(1);
  }
  return prepared.encryptedStore;
}

/** `encryption keygen|rotate|status`: the key file (keyring) of the credential store. */
export function registerEncryptionCommand(program: Command, io: CliIo): void {
  const encryption = program
    .command('encryption')
    .description('manage the credential encryption key (keyring)')
    .addHelpText(
      'after',
      `
The keyring lives in auth.encryption.key_file (JSON, mode 0600). CLIPROXY_ENCRYPTION_KEY (base64 of
32 bytes) takes precedence over the file; rotation needs the file.

Examples:
  $ cliproxyapi encryption keygen
  $ cliproxyapi encryption rotate                 # add a key, re-encrypt every credential
  $ cliproxyapi encryption rotate --retire-old    # ...and drop the old keys once all are re-encrypted
  $ cliproxyapi encryption status`,
    );

  encryption
    .command('keygen')
    .description('write a new random key file (mode 0600); the key itself is never printed')
    .option('--out <file>', 'where to write it (default: auth.encryption.key_file)')
    .option('--force', 'overwrite an existing key file (refused while credentials are encrypted under it)')
    .option(configOptionFlags, configOptionHelp)
    .action(async (options: { out?: string; force?: boolean; config?: string }) => {
      const loaded = loadConfigFor(options.config, io);
      const keyFile = options.out === undefined ? loaded.config.auth.encryption.key_file : resolve(workingDirectoryOf(io), options.out);
      if (await pathExists(keyFile)) {
        if (options.force !== true) {
          io.stderr(`error: ${keyFile} exists; pass --force to overwrite it, or use 'cliproxyapi encryption rotate' to change keys without losing credentials\n`);
          throw new CliExit(1);
        }
        const stored = await listCredentialFileIds(loaded.config.auth.dir);
        if (keyFile === loaded.config.auth.encryption.key_file && stored.length > 0) {
          io.stderr(`error: ${loaded.config.auth.dir} holds ${stored.length} credential file(s) encrypted under ${keyFile}; overwriting it would make them unreadable. Use 'cliproxyapi encryption rotate'\n`);
          throw new CliExit(1);
        }
      }
      const key = generateKey();
      await writeKeyFile(keyFile, [key]);
      key.key.fill(0);
      io.stdout(`wrote ${keyFile} (mode 0600, key id ${key.kid})\n`);
      io.stderr('Back this file up apart from the credential directory: without it the credentials cannot be decrypted.\n');
    });

  encryption
    .command('rotate')
    .description('add a new key to the keyring and re-encrypt every credential under it (crash-safe)')
    .option('--retire-old', 'after every file is re-encrypted, remove the old keys from the keyring')
    .option('--resume', 'do not add a key: finish an interrupted rotation under the newest key')
    .option(configOptionFlags, configOptionHelp)
    .action(async (options: { retireOld?: boolean; resume?: boolean; config?: string }) => {
      const loaded = loadConfigFor(options.config, io);
      const events = await cliSecurityEvents(loaded, io);
      const store = await openStoreFor(loaded, io, events);
      const total = (await store.fileIds()).length;
      let done = 0;
      const pause = Number(environmentOf(io)['CLIPROXY_TEST_ROTATION_PAUSE_MS'] ?? '0');
      try {
        const result = await rotateEncryptionKey({
          keyFile: loaded.config.auth.encryption.key_file,
          store,
          retireOld: options.retireOld === true,
          resume: options.resume === true,
          pauseMs: Number.isFinite(pause) ? Math.min(pause, maximumRotationPauseMs) : 0,
          onStep: (step) => {
            if (step.step === 'keyring-written') io.stderr(`rotation: keyring written with new key ${step.kid ?? ''}\n`);
            if (step.step === 'file-reencrypted' || step.step === 'file-current') io.stderr(`rotation: ${step.id ?? ''} ${step.step === 'file-current' ? 'already current' : 're-encrypted'} (${++done}/${total})\n`);
            if (step.step === 'old-keys-retired') io.stderr('rotation: old keys retired\n');
          },
        });
        events.record({ event_type: 'encryption-key-rotate', result: result.unreadable.length === 0 ? 'success' : 'failure', actor: 'cli', credential_ids: result.reencrypted, detail: `new key ${result.newKid}; retired ${result.retiredKids.join(', ') || 'none'}` });
        io.stdout(`rotated to key ${result.newKid}: ${result.reencrypted.length} re-encrypted, ${result.unreadable.length} unreadable, ${result.retiredKids.length} old key(s) retired\n`);
        if (result.changedDuringRotation.length > 0) {
          io.stderr(`changed during the rotation, left under their key: ${result.changedDuringRotation.join(', ')}; run 'cliproxyapi encryption rotate --resume'\n`);
        }
        for (const problem of result.unreadable) io.stderr(`unreadable: ${problem.message}\n`);
        if (result.unreadable.length > 0) throw new CliExit(1);
      } catch (error) {
        if (error instanceof CliExit) throw error;
        events.record({ event_type: 'encryption-key-rotate', result: 'failure', actor: 'cli', detail: (error as Error).message });
        throw error;
      } finally {
        store.keyring.destroy();
      }
    });

  encryption
    .command('status')
    .description('show the keyring (key ids only) and how many credential files each key encrypts')
    .option(configOptionFlags, configOptionHelp)
    .action(async (options: { config?: string }) => {
      const loaded = loadConfigFor(options.config, io);
      const { key_file: keyFile, key: configKey } = loaded.config.auth.encryption;
      const environmentKey = environmentOf(io)['CLIPROXY_ENCRYPTION_KEY'];
      // A status command writes nothing: with no key anywhere yet, report that instead of generating one.
      if ((environmentKey === undefined || environmentKey === '') && configKey === undefined && !(await pathExists(keyFile))) {
        io.stdout(`key source: none yet (${keyFile} is created by the first 'cliproxyapi serve' or by 'cliproxyapi encryption keygen')\n`);
        io.stdout(`credential files: ${(await listCredentialFileIds(loaded.config.auth.dir)).length}\n`);
        return;
      }
      const store = await openStoreFor(loaded, io, await cliSecurityEvents(loaded, io, { readOnly: true }), { readOnly: true });
      const counts = new Map<string, number>();
      for (const id of await store.fileIds()) {
        const kid = await store.readEnvelope(id).then((envelope) => envelope.kid, () => '(unreadable)');
        counts.set(kid, (counts.get(kid) ?? 0) + 1);
      }
      io.stdout(`key source: ${store.keyring.source}\n`);
      for (const entry of store.keyring.keys) {
        const newest = entry === store.keyring.newest() ? '  (newest: new writes)' : '';
        io.stdout(`${entry.kid}  ${entry.created_at || '-'}  files: ${counts.get(entry.kid) ?? 0}${newest}\n`);
        counts.delete(entry.kid);
      }
      for (const [kid, count] of counts) io.stdout(`${kid}  NOT IN KEYRING  files: ${count}\n`);
      store.keyring.destroy();
    });
}
