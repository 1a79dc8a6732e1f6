import { lstat, readdir, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import type { OperatorCodeFor } from '../errors/operator-codes.js';
import { EncryptedFileStore, listCredentialFileIds } from './file-store.js';
import { importCredentialFile } from './import.js';
import { generateKey, loadKeyring, writeKeyFile, type Keyring } from './keyring.js';
import { ensurePrivateDirectory, removeStaleTemporaryFiles } from '../files/private-file.js';
import { checkSecretPath, formatFinding, pathExists, type PermissionFinding } from '../files/secret-path-check.js';
import { createStderrSecurityEvents, type SecurityEventSink } from './security-events.js';
import type { CredentialListing, CredentialStore, StoredCredentialRecord } from './types.js';

/**
 * What runs before the proxy serves a single request: the permission checks of auth.dir, the key
 * file and a config that holds secrets; key loading (or first-start generation); and the plaintext
 * credential scan. Anything unsafe refuses the start with the exact path and the command that fixes
 * it; `fixPermissions` repairs modes (and owners, as root) and records a security event.
 */
export interface PrepareCredentialStoreOptions {
  /** `--fix-permissions`: chmod/chown what the checks find instead of refusing. */
  fixPermissions?: boolean;
  /** `--migrate`: encrypt plaintext credential files found in auth.dir, in place. */
  migrate?: boolean;
  /** Source of CLIPROXY_ENCRYPTION_KEY. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  events?: SecurityEventSink;
  /** CLI maintenance commands: report plaintext files as warnings instead of refusing. */
  allowPlaintext?: boolean;
  /** Generate a key file at first start when no key exists and auth.dir holds no credential. Default true. */
  createKeyIfMissing?: boolean;
  /** Status commands: create no directory, sweep no temp file, generate no key (implies createKeyIfMissing false). */
  readOnly?: boolean;
  actor?: string;
}

export interface PreparedCredentialStore {
  store: CredentialStore;
  warnings: string[];
  /** The encrypted store; undefined when auth.encryption.enabled is false. */
  encryptedStore?: EncryptedFileStore;
}

/** Refusal to start; `problems` holds one line per path, each with its fix. */
export class CredentialStartupError extends Error {
  readonly problems: string[];

  constructor(
    problems: string[],
    /** Catalog code (docs/errors.md, operator errors): which check refused. */
    readonly code: OperatorCodeFor<'CredentialStartupError'>,
  ) {
    super(`credential store refused to start:\n  ${problems.join('\n  ')}`);
    this.name = 'CredentialStartupError';
    this.problems = problems;
  }
}

/**
 * With encryption disabled no credential file is read or written: secrets are never stored in
 * clear, so the store is empty and refuses writes. Upstream keys then come from the config only.
 */
class DisabledCredentialStore implements CredentialStore {
  list(): Promise<CredentialListing[]> {
    return Promise.resolve([]);
  }
  read(id: string): Promise<StoredCredentialRecord> {
    return Promise.reject(new Error(`credential '${id}' is unavailable: auth.encryption.enabled is false, so no credential file is read`));
  }
  write(record: StoredCredentialRecord): Promise<void> {
    return Promise.reject(new Error(`credential '${record.id}' was not stored: auth.encryption.enabled is false and credentials are never written in clear`));
  }
  delete(id: string): Promise<void> {
    return Promise.reject(new Error(`credential '${id}' cannot be deleted: the credential store is disabled`));
  }
}

function configHoldsSecrets(loaded: LoadedConfig): boolean {
  const { auth, providers } = loaded.config;
  if ((auth.encryption as { key?: string }).key !== undefined) return true;
  if (auth.api_keys.some((entry) => 'key' in entry)) return true;
  return Object.values(providers).some((provider) => provider.api_keys.length > 0 || provider.oauth?.client_secret !== undefined);
}

async function permissionFindings(loaded: LoadedConfig, dir: string, keyFile: string): Promise<PermissionFinding[]> {
  const findings: PermissionFinding[] = [];
  // auth.dir may itself be a symlink to a volume; what counts is the directory it resolves to.
  const resolvedDir = await realpath(dir).catch(() => undefined);
  if (resolvedDir !== undefined) {
    findings.push(...(await checkSecretPath(resolvedDir, { kind: 'directory' })).map((finding) => ({ ...finding, path: dir })));
    for (const name of await readdir(resolvedDir)) {
      const path = join(dir, name);
      const stats = await lstat(path);
      findings.push(...(await checkSecretPath(path, { kind: stats.isDirectory() ? 'directory' : 'file', containingDirectory: dir })));
    }
  }
  findings.push(...(await checkSecretPath(keyFile, { kind: 'file', containingDirectory: dirname(keyFile) })));
  // The client key file decides who may use the proxy: the same rule, here so that the start names
  // it with the others and --fix-permissions repairs it; every reload checks it again when reading.
  const clientKeysFile = loaded.config.auth.client_keys_file;
  const clientKeysDirectory = dirname(clientKeysFile);
  // Like auth.dir, the directory may be a symlink to a volume: what counts is where it resolves.
  const resolvedClientKeysDirectory = await realpath(clientKeysDirectory).catch(() => undefined);
  if (resolvedClientKeysDirectory !== undefined) {
    const directoryFindings = await checkSecretPath(resolvedClientKeysDirectory, { kind: 'containing-directory' });
    findings.push(...directoryFindings.map((finding) => ({ ...finding, path: clientKeysDirectory })));
    findings.push(...(await checkSecretPath(clientKeysFile, { kind: 'file', containingDirectory: clientKeysDirectory })));
  }
  if (loaded.configPath !== undefined && configHoldsSecrets(loaded)) {
    const configFindings = await checkSecretPath(loaded.configPath, { kind: 'file', containingDirectory: dirname(loaded.configPath) });
    findings.push(...configFindings.map((finding) => ({ ...finding, problem: `${finding.problem} (the config holds secrets: upstream keys, client keys or an OAuth client secret)` })));
  }
  return findings;
}

async function repairFindings(findings: PermissionFinding[], events: SecurityEventSink, actor: string): Promise<void> {
  for (const finding of findings) {
    if (finding.repair === undefined) continue;
    try {
      await finding.repair();
      events.record({ event_type: 'credential-permissions-fix', result: 'success', actor, detail: `${finding.path}: ${finding.fix}` });
    } catch (error) {
      events.record({ event_type: 'credential-permissions-fix', result: 'failure', actor, detail: `${finding.path}: ${finding.fix}: ${(error as NodeJS.ErrnoException).code ?? 'failed'}` });
    }
  }
}

/** Loads the keyring, or creates the key file at first start. Refuses when files exist but no key does. */
async function obtainKeyring(loaded: LoadedConfig, options: PrepareCredentialStoreOptions, dir: string, warnings: string[]): Promise<Keyring> {
  const keyFile = loaded.config.auth.encryption.key_file;
  const loadedKeyring = await loadKeyring({
    env: options.env ?? process.env,
    keyFile,
    keyFileExists: await pathExists(keyFile),
    configKey: loaded.config.auth.encryption.key,
  });
  if (loadedKeyring !== undefined) {
    warnings.push(...loadedKeyring.warnings);
    return loadedKeyring.keyring;
  }
  const ids = await listCredentialFileIds(dir);
  if (ids.length > 0 || options.createKeyIfMissing === false || options.readOnly === true) {
    throw new CredentialStartupError([
      `${keyFile}: no encryption key (not in CLIPROXY_ENCRYPTION_KEY, not in this key file, not in auth.encryption.key)` +
        (ids.length > 0 ? ` but ${dir} holds ${ids.length} credential file(s); restore the key that encrypted them` : '; create one with `cliproxyapi encryption keygen`'),
    ], 'CREDENTIAL_KEY_MISSING');
  }
  const key = generateKey();
  await writeKeyFile(keyFile, [key]);
  warnings.push(`generated a new encryption key in ${keyFile} (mode 0600); back it up apart from ${dir}: without it the credentials cannot be decrypted`);
  const reloaded = await loadKeyring({ env: {}, keyFile, keyFileExists: true, configKey: undefined });
  key.key.fill(0);
  if (reloaded === undefined) throw new Error(`${keyFile}: the generated key file could not be read back`);
  return reloaded.keyring;
}

/**
 * Runs every startup check and returns the credential store the runtime serves from. Unreadable
 * credential files are warnings (the proxy serves with the others); insecure paths and, with
 * encryption on, plaintext credential files refuse the start (CredentialStartupError).
 */
export async function prepareCredentialStore(loaded: LoadedConfig, options: PrepareCredentialStoreOptions = {}): Promise<PreparedCredentialStore> {
  const events = options.events ?? createStderrSecurityEvents();
  const actor = options.actor ?? 'startup';
  const dir = loaded.config.auth.dir;
  const keyFile = loaded.config.auth.encryption.key_file;
  const warnings: string[] = [];

  let findings = await permissionFindings(loaded, dir, keyFile);
  if (findings.length > 0 && options.fixPermissions === true) {
    await repairFindings(findings, events, actor);
    findings = await permissionFindings(loaded, dir, keyFile);
  }
  if (findings.length > 0) {
    // --fix-permissions only helps findings it can repair (modes, owners); a symlink keeps its own fix.
    const hint = options.fixPermissions === true ? '' : ' (or start with --fix-permissions to repair modes)';
    const lastRepairable = findings.findLastIndex((finding) => finding.repair !== undefined);
    throw new CredentialStartupError(
      findings.map((finding, index) => `${formatFinding(finding)}${index === lastRepairable ? hint : ''}`),
      'CREDENTIAL_PERMISSIONS_UNSAFE',
    );
  }

  if (!loaded.config.auth.encryption.enabled) {
    warnings.push(`auth.encryption.enabled is false: credential files in ${dir} are neither read nor written; upstream keys come from the config only`);
    return { store: new DisabledCredentialStore(), warnings };
  }

  if (options.readOnly !== true) {
    await ensurePrivateDirectory(dir);
    for (const removed of [...(await removeStaleTemporaryFiles(dir)), ...(await removeStaleTemporaryFiles(dirname(keyFile), { forTarget: basename(keyFile) }))]) {
      warnings.push(`${removed}: removed a temp file left by an interrupted write`);
    }
  }
  const keyring = await obtainKeyring(loaded, options, dir, warnings);
  const store = new EncryptedFileStore({ dir, keyring, onUnreadable: (problem) => events.record({ event_type: 'credential-unreadable', result: 'failure', actor, credential_ids: [problem.id], detail: problem.message }) });
  const scan = await store.scan();
  for (const problem of scan.unreadable) warnings.push(`${problem.message}; the proxy serves with its other credentials`);

  if (scan.plaintext.length > 0) {
    if (options.migrate === true) {
      const failures: string[] = [];
      for (const file of scan.plaintext) {
        try {
          const imported = await importCredentialFile(store, file, { replace: true });
          events.record({ event_type: 'credential-migrate', result: 'success', actor, credential_ids: [imported.id], detail: file });
          warnings.push(`${file}: plaintext credential encrypted in place as '${imported.id}'`);
        } catch (error) {
          failures.push(`${file}: could not be migrated (${(error as Error).message.replace(`${file}: `, '')}); import it with \`cliproxyapi creds import ${file} --provider NAME --delete-source\``);
        }
      }
      if (failures.length > 0) throw new CredentialStartupError(failures, 'CREDENTIAL_MIGRATION_FAILED');
    } else if (options.allowPlaintext === true) {
      for (const file of scan.plaintext) warnings.push(`${file}: holds a credential in clear; encrypt it with \`cliproxyapi creds check --migrate\``);
    } else {
      throw new CredentialStartupError(
        scan.plaintext.map((file) => `${file}: holds a credential in clear while auth.encryption.enabled is true; fix: start with --migrate, or run \`cliproxyapi creds import ${file} --delete-source\``),
        'CREDENTIAL_PLAINTEXT_FOUND',
      );
    }
  }
  return { store, warnings, encryptedStore: store };
}
