import type { LoadedConfig } from '../../config/load.js';
import type { EncryptedFileStore } from '../../credentials/file-store.js';
import { parseKeyText } from '../../credentials/keyring.js';
import { CredentialStartupError, prepareCredentialStore } from '../../credentials/startup-checks.js';
import { redactText } from '../../security/redact.js';
import { fail, pass, skip, skipWithoutConfig, warn, type CheckResult, type DoctorContext } from '../check-result.js';
import { configFindingsFor } from '../config-findings.js';

/**
 * The credential store exactly as `serve` and `creds check` prepare it (prepareCredentialStore:
 * permissions of auth.dir, its files, the key file, the client key file and a config holding
 * secrets; the keyring; the plaintext scan), in its read-only form: nothing is created, swept,
 * generated or repaired. Its refusal becomes failed checks: `permissions`, `encryption`,
 * `plaintext-credentials`; `credential-age` and `encryption-key-age` read what it opened.
 */

/** Rotation period the spec's checklist asks for: a quarter. */
export const rotationPeriodDays = 90;
const dayMs = 86_400_000;

type StoreInspection =
  | { outcome: 'opened'; store: EncryptedFileStore; warnings: string[] }
  | { outcome: 'encryption-off'; warnings: string[] }
  | { outcome: 'refused'; code: string; problems: readonly string[] }
  | { outcome: 'key-refused'; message: string };

const inspections = new WeakMap<DoctorContext, Promise<StoreInspection>>();

/** Prepared once per doctor run and shared by the checks below. */
function inspectStore(context: DoctorContext, config: NonNullable<DoctorContext['config']>): Promise<StoreInspection> {
  let inspection = inspections.get(context);
  if (inspection === undefined) {
    const loaded: LoadedConfig = { config, configPath: context.inspection.configPath, baseDir: context.inspection.baseDir, warnings: [] };
    inspection = prepareCredentialStore(loaded, { readOnly: true, allowPlaintext: true, env: context.env, actor: 'doctor', events: { record: () => undefined } }).then(
      (prepared): StoreInspection =>
        prepared.encryptedStore === undefined ? { outcome: 'encryption-off', warnings: prepared.warnings } : { outcome: 'opened', store: prepared.encryptedStore, warnings: prepared.warnings },
      (error: unknown): StoreInspection => {
        if (error instanceof CredentialStartupError) {
          if (error.code === 'CREDENTIAL_KEY_MISSING') return { outcome: 'key-refused', message: error.problems.join('; ') };
          return { outcome: 'refused', code: error.code, problems: error.problems };
        }
        // The keyring's refusals (placeholder, weak, unreadable or loose key file) are plain errors.
        return { outcome: 'key-refused', message: redactText(error instanceof Error ? error.message : String(error)) };
      },
    );
    inspections.set(context, inspection);
  }
  return inspection;
}

/** `permissions`: every secret path by the rule `serve` applies (read-only orchestrator mounts included). */
export async function checkPermissions(context: DoctorContext): Promise<CheckResult> {
  if (context.config === undefined) return skipWithoutConfig('permissions');
  const inspection = await inspectStore(context, context.config);
  if (inspection.outcome === 'refused' && inspection.code === 'CREDENTIAL_PERMISSIONS_UNSAFE') {
    return fail('permissions', `${inspection.problems.length} secret path(s) are not private`, "apply the fix on each line below (or run 'cliproxyapi creds check --fix-permissions' as the service user)", inspection.problems);
  }
  return pass('permissions', 'auth.dir, its files, the key file, the client key file and the config (when it holds secrets): private, owned by this uid or root');
}

/** `encryption`: on, with a usable key from the key file or the environment (inline warns, placeholder fails). */
export async function checkEncryption(context: DoctorContext): Promise<CheckResult> {
  const { config } = context;
  if (config === undefined) return skipWithoutConfig('encryption');
  if (!config.auth.encryption.enabled) {
    return fail('encryption', 'auth.encryption.enabled is false: OAuth credentials cannot be stored and TOTP cannot be enrolled', "set auth.encryption.enabled: true and create a key with 'cliproxyapi encryption keygen'");
  }
  const findings = configFindingsFor('encryption', context.inspection);
  if (findings.problems.length > 0) return fail('encryption', 'the encryption settings are refused', 'correct the settings below', findings.problems);
  const inline = config.auth.encryption.key;
  if (inline !== undefined) {
    // Judged even when a key file or the environment wins: a placeholder in the file is one deleted
    // key file away from being the key, and the doctor says so now.
    try {
      parseKeyText(inline, 'auth.encryption.key', { allowRaw: true }).fill(0);
    } catch (error) {
      return fail('encryption', redactText((error as Error).message), "delete auth.encryption.key from the config and write a random key with 'cliproxyapi encryption keygen' (auth.encryption.key_file, mode 0600)");
    }
  }
  const inspection = await inspectStore(context, config);
  if (inspection.outcome === 'refused') {
    if (inspection.code === 'CREDENTIAL_PERMISSIONS_UNSAFE') return skip('encryption', 'not checked: the permission check refused the credential store first', 'fix the permissions check, then run doctor again');
    return fail('encryption', 'the credential store refused to open', 'apply the fix on each line below', inspection.problems);
  }
  if (inspection.outcome === 'key-refused') {
    return fail('encryption', inspection.message, `write a random key with 'cliproxyapi encryption keygen' (auth.encryption.key_file, mode 0600) and remove auth.encryption.key from the config`);
  }
  if (inspection.outcome === 'encryption-off') return fail('encryption', 'the credential store is off', 'set auth.encryption.enabled: true');
  const { keyring } = inspection.store;
  if (keyring.source === 'config') {
    return warn('encryption', 'the encryption key is written in the config (auth.encryption.key), next to what it protects', `move it to auth.encryption.key_file (mode 0600) or CLIPROXY_ENCRYPTION_KEY, and delete auth.encryption.key`);
  }
  if (inline !== undefined) return warn('encryption', `auth.encryption.key is set but unused (${keyring.source === 'env' ? 'CLIPROXY_ENCRYPTION_KEY' : 'the key file'} wins): a key written in the config`, 'delete auth.encryption.key from the config');
  const source = keyring.source === 'env' ? 'CLIPROXY_ENCRYPTION_KEY' : config.auth.encryption.key_file;
  return pass('encryption', `on: ${keyring.keys.length} key(s) from ${source}`);
}

/** `plaintext-credentials`: no credential in clear in auth.dir (serve refuses to start with one). */
export async function checkPlaintextCredentials(context: DoctorContext): Promise<CheckResult> {
  if (context.config === undefined) return skipWithoutConfig('plaintext-credentials');
  const inspection = await inspectStore(context, context.config);
  if (inspection.outcome !== 'opened') return skip('plaintext-credentials', 'not checked: the credential store did not open (see permissions and encryption)');
  const scan = await inspection.store.scan();
  if (scan.plaintext.length > 0) {
    return fail('plaintext-credentials', `${scan.plaintext.length} credential file(s) in clear in ${context.config.auth.dir}`, "encrypt them with 'cliproxyapi creds check --migrate' (or creds import FILE --delete-source)", scan.plaintext);
  }
  if (scan.unreadable.length > 0) {
    return warn('plaintext-credentials', `no plaintext file, but ${scan.unreadable.length} credential file(s) cannot be read`, 'restore the key that encrypted them or delete them', scan.unreadable.map((problem) => problem.message));
  }
  return pass('plaintext-credentials', `${scan.credentials.length} credential file(s), all encrypted`);
}

function ageDays(isoDate: string, now: Date): number | undefined {
  const time = Date.parse(isoDate);
  return Number.isNaN(time) ? undefined : Math.floor((now.getTime() - time) / dayMs);
}

/** `encryption-key-age`: the newest key is younger than the rotation period (keys carry created_at). */
export async function checkEncryptionKeyAge(context: DoctorContext): Promise<CheckResult> {
  if (context.config === undefined) return skipWithoutConfig('encryption-key-age');
  const inspection = await inspectStore(context, context.config);
  if (inspection.outcome !== 'opened') return skip('encryption-key-age', 'not checked: no keyring was opened');
  const newest = inspection.store.keyring.newest();
  const days = ageDays(newest.created_at, context.now);
  if (days === undefined) return warn('encryption-key-age', `the key ${newest.kid} carries no creation date (a bare key or CLIPROXY_ENCRYPTION_KEY)`, "rotate to a dated keyring with 'cliproxyapi encryption rotate'");
  if (days > rotationPeriodDays) return warn('encryption-key-age', `the newest key ${newest.kid} was created ${newest.created_at.slice(0, 10)} (${days} days ago, over ${rotationPeriodDays})`, "rotate it: 'cliproxyapi encryption rotate' (add --retire-old once all files are re-encrypted)");
  return pass('encryption-key-age', `the newest key ${newest.kid} was created ${newest.created_at.slice(0, 10)} (${days} days ago)`);
}

/** `credential-age`: stored credentials updated within the rotation period (OAuth refreshes count). */
export async function checkCredentialAge(context: DoctorContext): Promise<CheckResult> {
  if (context.config === undefined) return skipWithoutConfig('credential-age');
  const inspection = await inspectStore(context, context.config);
  if (inspection.outcome !== 'opened') return skip('credential-age', 'not checked: the credential store did not open');
  const scan = await inspection.store.scan();
  const old = scan.credentials.filter((entry) => (ageDays(entry.updated_at, context.now) ?? 0) > rotationPeriodDays);
  if (old.length > 0) {
    return warn('credential-age', `${old.length} stored credential(s) not renewed for over ${rotationPeriodDays} days`, 'rotate each upstream key or log in again (cliproxyapi login PROVIDER), then creds import', old.map((entry) => `${entry.id} (${entry.provider}): last updated ${entry.updated_at.slice(0, 10)}`));
  }
  return pass('credential-age', `${scan.credentials.length} stored credential(s), none older than ${rotationPeriodDays} days`);
}
