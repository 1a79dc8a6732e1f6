import { isConfigError } from '../../config/config-error.js';
import type { LoadedConfig } from '../../config/load.js';
import { collectClientKeys, listClientKeys, type ClientKeyListing } from '../../security/client-keys.js';
import { fail, pass, skipWithoutConfig, warn, type CheckResult, type DoctorContext } from '../check-result.js';

/**
 * `key-governance`: what the client keys' own fields (docs/keys.md) say about the deployment.
 * The keys are read by the services `serve` uses: `collectClientKeys` (both sources, each key's
 * policy compiled, duplicate ids refused: exactly what stops a start or a reload) and then
 * `listClientKeys` (status, expiry, limits). Only ids, dates and counts are reported, never a key
 * or a hash.
 *
 * What the processes of a deployment share, as the code does it (so the findings say only that):
 * with `serve --workers N` on the memory backend the primary keeps every counter for its workers,
 * so per-minute limits and budgets are shared, not multiplied; a single process and the primary
 * both charge the budget counters at start from the usage file (main.ts `openUsage`,
 * `chargeRecordedUsageFromFile`), so a restart keeps them. Only with `usage.enabled` false is there
 * nothing to charge from: a restart then gives every key its budget back. `max_concurrency` is a
 * slot of each process (limits/concurrency-gate.ts): N processes admit N x the cap, by design.
 */

/** A key expiring within this many milliseconds is reported (7 days). */
const expiringSoonMs = 7 * 86_400_000;

function loadedFrom(context: DoctorContext): LoadedConfig | undefined {
  const { config, inspection } = context;
  if (config === undefined) return undefined;
  // The keys are judged even when another part of the config has a problem (the config check names it).
  return inspection.loaded ?? { config, configPath: inspection.configPath, baseDir: inspection.baseDir, warnings: inspection.warnings };
}

const hasBudget = (key: ClientKeyListing) => key.budgets?.tokens_per_day !== undefined || key.budgets?.tokens_per_month !== undefined;

function named(keys: readonly ClientKeyListing[], describe: (key: ClientKeyListing) => string): string {
  return keys.map(describe).join(', ');
}

function revokeFix(keys: readonly ClientKeyListing[]): string {
  const fromConfig = keys.some((key) => key.source === 'config');
  const fromFile = keys.some((key) => key.source === 'file');
  const ways = [
    ...(fromFile ? ["for a key file entry 'cliproxyapi keys update ID --expires-in 30d' (or 'keys revoke ID' when it is no longer used)"] : []),
    ...(fromConfig ? ['for an auth.api_keys entry change or remove its expires_at in the config'] : []),
  ];
  return `give each key a new expiry or remove it: ${ways.join('; ')}`;
}

export function checkKeyGovernance(context: DoctorContext): CheckResult {
  const loaded = loadedFrom(context);
  if (loaded === undefined) return skipWithoutConfig('key-governance');
  try {
    collectClientKeys(loaded);
  } catch (error) {
    if (!isConfigError(error)) throw error;
    // The problems name the entry (`/keys/3/budgets (key 'ci'): …`, `client key 'ci': expires_at …`).
    return fail('key-governance', `the client keys are refused (${error.problems.length} problem(s)): serve would not start, a reload keeps the running keys`, 'correct each entry named below', error.problems);
  }
  const now = context.now.getTime();
  const keys = listClientKeys(loaded, now);
  if (keys.length === 0) return pass('key-governance', 'no client keys to judge (see the client-keys check)');

  const findings: { message: string; fix: string }[] = [];
  const expired = keys.filter((key) => key.status === 'expired');
  if (expired.length > 0) {
    findings.push({ message: `${expired.length} key(s) expired and refused: ${named(expired, (key) => `${key.id} (${key.expires_at ?? '?'})`)}`, fix: revokeFix(expired) });
  }
  const expiringSoon = keys.filter((key) => key.status === 'active' && key.expires_at !== undefined && Date.parse(key.expires_at) - now <= expiringSoonMs);
  if (expiringSoon.length > 0) {
    findings.push({ message: `${expiringSoon.length} key(s) expire within 7 days: ${named(expiringSoon, (key) => `${key.id} (${key.expires_at ?? '?'})`)}`, fix: revokeFix(expiringSoon) });
  }
  const budgeted = keys.filter((key) => key.status !== 'disabled' && hasBudget(key));
  const { config } = loaded;
  // The memory backend's counters (a single process's, or the serve --workers primary's) are charged
  // from the usage file at start: only without that file does a restart give the budgets back.
  if (budgeted.length > 0 && config.state.backend === 'memory' && !config.usage.enabled) {
    findings.push({
      message: `${budgeted.length} key(s) with a token budget (${named(budgeted, (key) => key.id)}): with usage.enabled: false on the memory backend there is no usage file to charge the counters from at start, so a restart gives each its day's and month's budget back`,
      fix: 'set usage.enabled: true, or state.backend: redis',
    });
  }

  // Information, not findings: what the operator switched off, and a cap that is per process by design.
  const notes: string[] = [];
  const disabled = keys.filter((key) => key.status === 'disabled');
  if (disabled.length > 0) notes.push(`info: ${disabled.length} key(s) disabled (refused until enabled): ${named(disabled, (key) => key.id)}`);
  const processes = context.workers * context.replicas;
  const capped = keys.filter((key) => key.status !== 'disabled' && key.max_concurrency !== undefined);
  if (capped.length > 0 && processes > 1) {
    notes.push(`info: max_concurrency is counted per process: with ${processes} processes ${named(capped, (key) => `${key.id} may have up to ${processes * (key.max_concurrency ?? 0)}`)} request(s) in flight`);
  }

  if (findings.length === 0) return pass('key-governance', `${keys.length} client key(s): none expired or expiring within 7 days`, notes.length > 0 ? notes : undefined);
  const [only] = findings;
  if (findings.length === 1 && only !== undefined) return warn('key-governance', only.message, only.fix, notes.length > 0 ? notes : undefined);
  return warn('key-governance', `${findings.length} findings about the client keys`, 'apply the fix on each line below', [...findings.map((finding) => `${finding.message}; fix: ${finding.fix}`), ...notes]);
}
