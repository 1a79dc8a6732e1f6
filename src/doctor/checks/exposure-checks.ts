import { dirname } from 'node:path';
import { isConfigError } from '../../config/config-error.js';
import { isLoopbackHost } from '../../config/validate-semantics.js';
import { checkSecretPath, formatFinding } from '../../files/secret-path-check.js';
import { TotpStore } from '../../management/totp-store.js';
import { readClientKeyFile } from '../../security/client-key-file.js';
import { normaliseRole, readManagementKeyFile } from '../../security/management-key-file.js';
import { fail, pass, skipWithoutConfig, warn, type CheckResult, type DoctorContext } from '../check-result.js';
import { configFindingsFor } from '../config-findings.js';

/**
 * Who can reach the proxy and with what: TLS or a loopback-only bind (`tls`), client keys as
 * hashes and no placeholder (`client-keys`), the management API not remote without TLS and with
 * TOTP for admin keys when remote (`management`). The loader's findings come first; the key files
 * are read by the readers `serve` uses, so their permission rule is the same one.
 */

/** `tls`: TLS 1.2+ with the ECDHE+AEAD suites (refused otherwise by the loader), or loopback only. */
export async function checkTls(context: DoctorContext): Promise<CheckResult> {
  const { config } = context;
  if (config === undefined) return skipWithoutConfig('tls');
  const { problems } = configFindingsFor('tls', context.inspection);
  if (problems.length > 0) return fail('tls', `the TLS settings are refused (${problems.length} problem(s))`, 'correct the server.tls settings below', problems);
  const { host, tls } = config.server;
  if (!tls.enabled) {
    if (isLoopbackHost(host)) return pass('tls', `TLS off, listening on loopback only (${host})`);
    return fail('tls', `listening on ${host} without TLS: client keys and prompts cross the network in clear`, 'set server.tls.enabled: true with cert_file and key_file, or bind server.host: 127.0.0.1 behind a TLS-terminating proxy on the same host');
  }
  // The key file by the rule `serve` applies (a Secret volume's ..data link included).
  const findings = await checkSecretPath(tls.key_file, { kind: 'file', containingDirectory: dirname(tls.key_file) });
  if (findings.length > 0) return fail('tls', 'server.tls.key_file is not private', 'apply the fix on each line below', findings.map(formatFinding));
  const suites = tls.min_version === '1.3' ? tls.cipher_suites_tls13.length : tls.cipher_suites.length + tls.cipher_suites_tls13.length;
  return pass('tls', `TLS on: minimum ${tls.min_version}, ${suites} ECDHE/AEAD suite(s), key file private`);
}

/** `client-keys`: keys exist, are stored as SHA-256 hashes, none is a documentation placeholder. */
export function checkClientKeys(context: DoctorContext): CheckResult {
  const { config } = context;
  if (config === undefined) return skipWithoutConfig('client-keys');
  const findings = configFindingsFor('client-keys', context.inspection);
  if (findings.problems.length > 0) return fail('client-keys', `client keys are refused (${findings.problems.length} problem(s))`, "remove them and create keys with 'cliproxyapi keys create --id NAME' (hashes only)", findings.problems);
  let fileKeys: number;
  try {
    fileKeys = readClientKeyFile(config.auth.client_keys_file).length;
  } catch (error) {
    if (!isConfigError(error)) throw error;
    return fail('client-keys', `the client key file ${config.auth.client_keys_file} is refused`, 'apply the fix on each line below', error.problems);
  }
  const plain = config.auth.api_keys.filter((entry) => 'key' in entry).length;
  const total = config.auth.api_keys.length + fileKeys;
  if (total === 0) {
    if (isLoopbackHost(config.server.host)) return warn('client-keys', 'no client key yet: serve creates one at first start and prints it once', "create one now with 'cliproxyapi keys create --id NAME' so the deployment does not depend on reading the first start's output");
    return fail('client-keys', `no client key while listening on ${config.server.host}: serve refuses to start`, "create one with 'cliproxyapi keys create --id NAME'");
  }
  if (plain > 0) return warn('client-keys', `${plain} of ${total} client key(s) written in clear in the config (auth.api_keys[].key)`, "replace each key: with key_sha256: (hex SHA-256 of the key), or move it to the key file with 'cliproxyapi keys create'");
  return pass('client-keys', `${total} client key(s), all stored as SHA-256 hashes`);
}

/** `management`: off, or loopback only, or remote over TLS with TOTP enrolled for every admin key. */
export async function checkManagement(context: DoctorContext): Promise<CheckResult> {
  const { config } = context;
  if (config === undefined) return skipWithoutConfig('management');
  const findings = configFindingsFor('management', context.inspection);
  if (findings.problems.length > 0) return fail('management', `the management settings are refused (${findings.problems.length} problem(s))`, 'correct the management settings below', findings.problems);
  const { management } = config;
  if (!management.enabled) return pass('management', 'management API off');
  let fileKeys;
  try {
    fileKeys = readManagementKeyFile(management.keys_file);
  } catch (error) {
    if (!isConfigError(error)) throw error;
    return fail('management', `the management key file ${management.keys_file} is refused`, 'apply the fix on each line below', error.problems);
  }
  if (!management.allow_remote) return pass('management', 'management API answers loopback only (management.allow_remote: false)');
  const admins = [...management.keys.filter((key) => normaliseRole(key.role) === 'admin'), ...fileKeys.filter((key) => key.role === 'admin')].map((key) => key.id);
  // isEnrolled reads the file's entries only: no secret is opened (that needs the keyring).
  const store = new TotpStore(management.totp_file, () => undefined);
  const missing: string[] = [];
  for (const id of admins) if (!(await store.isEnrolled(id))) missing.push(id);
  if (missing.length > 0) {
    return fail('management', `management is remote but admin key(s) ${missing.join(', ')} have no TOTP enrolled`, 'enroll each from its own machine: POST /v0/management/totp/enroll, then /totp/confirm with the first code (docs/operations.md)');
  }
  return pass('management', `management remote over TLS; ${admins.length} admin key(s), each with TOTP enrolled`);
}
