import { constants as fsConstants } from 'node:fs';
import { access, lstat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AuditFileError, checkAuditDirectory, checkOpenedAuditFile, rotatedFilesOf } from '../../audit/audit-files.js';
import { loadAuditKey } from '../../audit/audit-key.js';
import { verifyAuditChain } from '../../audit/verify.js';
import { parseCondition, type AlertCounter } from '../../config/alert-rules.js';
import { pathExists } from '../../files/secret-path-check.js';
import { fail, pass, skip, skipWithoutConfig, warn, type CheckResult, type DoctorContext } from '../check-result.js';
import { configFindingsFor } from '../config-findings.js';

/**
 * Operational security: the audit log on, writable by this uid and private (`audit`), its hash
 * chain verifying as `audit verify` checks it (`audit-chain`), and alert rules for the two attacks
 * the spec names (`alerts`). Read-only: nothing is opened for writing, no key is generated.
 */

async function writable(path: string): Promise<boolean> {
  return access(path, fsConstants.W_OK).then(() => true, () => false);
}

/** The nearest directory on the way to `path` that exists: where `serve` would create the rest. */
async function nearestExisting(path: string): Promise<string> {
  let current = path;
  while (!(await pathExists(current)) && dirname(current) !== current) current = dirname(current);
  return current;
}

export async function checkAudit(context: DoctorContext): Promise<CheckResult> {
  const { config } = context;
  if (config === undefined) return skipWithoutConfig('audit');
  const { problems } = configFindingsFor('audit', context.inspection);
  if (problems.length > 0) return fail('audit', 'the audit settings are refused', 'correct the settings below', problems);
  if (!config.audit.enabled) {
    return fail('audit', 'the audit log is off: logins, key changes, credential access and blocks leave no tamper-evident record', 'set audit.enabled: true (audit.file on a persistent volume, audit.key_file for an HMAC chain)');
  }
  const file = config.audit.file;
  const directory = dirname(file);
  try {
    await checkAuditDirectory(directory);
    if (await pathExists(file)) checkOpenedAuditFile(file, await lstat(file));
  } catch (error) {
    if (!(error instanceof AuditFileError)) throw error;
    return fail('audit', error.message, 'make the audit directory 0700 and the file 0600, owned by the service user, neither a symlink');
  }
  const existing = await nearestExisting(directory);
  const target = (await pathExists(file)) ? file : existing;
  if (!(await writable(target))) return fail('audit', `${target} is not writable by this uid: serve could not record`, `chown the audit directory to the service user (or run doctor as that user)`);
  const state = (await pathExists(file)) ? 'writable' : existing === directory ? 'no file yet; the directory is writable' : `no file yet; ${existing} is writable, serve creates ${directory}`;
  return pass('audit', `on: ${file} (${state})`);
}

export async function checkAuditChain(context: DoctorContext): Promise<CheckResult> {
  const { config } = context;
  if (config === undefined) return skipWithoutConfig('audit-chain');
  if (!config.audit.enabled) return skip('audit-chain', 'the audit log is off (see the audit check)');
  const file = config.audit.file;
  const chain = [...(await rotatedFilesOf(file)), ...((await pathExists(file)) ? [file] : [])];
  const keyFile = config.audit.key_file;
  if (chain.length === 0) return pass('audit-chain', 'no audit record yet: nothing to verify');
  let key: Buffer | undefined;
  if (keyFile !== undefined) {
    try {
      key = await loadAuditKey(keyFile, { create: false });
    } catch (error) {
      if (!(error instanceof AuditFileError)) throw error;
      return fail('audit-chain', error.message, 'restore the audit key the chain was written with (audit.key_file, mode 0600)');
    }
  }
  const result = await verifyAuditChain(chain, key);
  key?.fill(0);
  if (!result.ok) {
    return fail('audit-chain', `the chain is broken after ${result.records} intact record(s): ${result.problem ?? 'see audit verify'}`, 'treat it as an incident: keep the files as evidence and follow docs/incident-response.md; `cliproxyapi audit verify` names the record', result.notes);
  }
  const message = `${result.records} record(s) in ${chain.length} file(s) verified (${context.now.toISOString()})`;
  if (key === undefined) return warn('audit-chain', `${message}, plain SHA-256: whoever can edit the log can rebuild the chain`, 'set audit.key_file (serve creates the key, 0600) for an HMAC-SHA-256 chain');
  return pass('audit-chain', `${message}, HMAC-SHA-256`);
}

/** The spec's two rules: many failed logins, many rate-limit refusals. */
const wantedCounters: readonly AlertCounter[] = ['auth_failures', 'rate_limit_violations'];

export function checkAlerts(context: DoctorContext): CheckResult {
  const { config } = context;
  if (config === undefined) return skipWithoutConfig('alerts');
  const { problems } = configFindingsFor('alerts', context.inspection);
  if (problems.length > 0) return fail('alerts', 'alert rules are refused', 'correct the rules below', problems);
  const covered = new Set(config.alerts.map((rule) => parseCondition(rule.condition)).flatMap((parsed) => ('counter' in parsed ? [parsed.counter] : [])));
  const missing = wantedCounters.filter((counter) => !covered.has(counter));
  if (missing.length > 0) {
    return warn('alerts', `no alert rule on ${missing.join(' or ')}`, `add rules such as { name: High auth failure rate, condition: "auth_failures > 100", duration: 5m, action: notify_admin } and { name: Rate limit violations, condition: "rate_limit_violations > 50", duration: 1m, action: block_ip } (docs/configuration.md)`);
  }
  return pass('alerts', `${config.alerts.length} alert rule(s), covering auth failures and rate-limit violations`);
}
