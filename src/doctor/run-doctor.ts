import { inspectConfig, type ConfigInspection } from '../config/load.js';
import { redactText } from '../security/redact.js';
import { fail, type CheckResult, type DoctorContext } from './check-result.js';
import { checkAlerts, checkAudit, checkAuditChain } from './checks/audit-checks.js';
import { checkConfig } from './checks/config-check.js';
import { checkCredentialAge, checkEncryption, checkEncryptionKeyAge, checkPermissions, checkPlaintextCredentials } from './checks/credential-store-checks.js';
import { checkClientKeys, checkManagement, checkTls } from './checks/exposure-checks.js';
import { checkIpAllowlist, checkIpLists, checkProviders, checkRateLimit } from './checks/network-checks.js';
import { checkContainer, containerCheckIds, type ContainerMode } from './checks/container-checks.js';
import { checkKeyGovernance } from './checks/key-governance-check.js';
import { checkInstallationLockfile, checkInstallationSbom } from './checks/installation-checks.js';
import { checkReplicas } from './checks/replicas-check.js';
import { checkRunningProxy, runningProxyCheckIds } from './checks/running-proxy-checks.js';
import { doctorSchemaVersion, type DoctorReport } from './report-schema.js';

/**
 * `cliproxyapi doctor`: the spec's pre- and post-deployment checklists as checks that call the
 * services `serve`, `config check`, `creds check`, `encryption status` and `audit verify` use.
 * Read-only throughout. A check that throws is a failed check naming why, never a crash: the
 * report is always complete, so a pipeline always gets its one document.
 */
export interface DoctorOptions {
  /** Absolute config path; undefined checks the built-in default (as serve would run it). */
  configPath: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  strict: boolean;
  replicas: number;
  workers: number;
  url: string | undefined;
  /** `--container`: auto-detect whether this is the deployment's container, or say so. */
  containerMode: ContainerMode;
  version: string;
  now?: Date;
}

/** A runner reports one check, or a group that shares one probe (the five container checks). */
interface CheckRunner {
  readonly ids: readonly string[];
  readonly run: (context: DoctorContext) => CheckResult | CheckResult[] | Promise<CheckResult | CheckResult[]>;
}

const one = (id: string, run: (context: DoctorContext) => CheckResult | Promise<CheckResult>): CheckRunner => ({ ids: [id], run });

/** Every check, in the order the report lists them (cheapest and most basic first). */
const checkRunners: readonly CheckRunner[] = [
  one('config', checkConfig),
  one('tls', checkTls),
  one('client-keys', checkClientKeys),
  one('key-governance', checkKeyGovernance),
  one('management', checkManagement),
  one('permissions', checkPermissions),
  one('encryption', checkEncryption),
  one('plaintext-credentials', checkPlaintextCredentials),
  one('encryption-key-age', checkEncryptionKeyAge),
  one('credential-age', checkCredentialAge),
  one('rate-limit', checkRateLimit),
  one('ip-allowlist', checkIpAllowlist),
  one('ip-lists', checkIpLists),
  one('providers', checkProviders),
  one('audit', checkAudit),
  one('audit-chain', checkAuditChain),
  one('alerts', checkAlerts),
  one('replicas', checkReplicas),
  { ids: containerCheckIds, run: checkContainer },
  one('installation-lockfile', () => checkInstallationLockfile()),
  one('installation-sbom', () => checkInstallationSbom()),
  { ids: runningProxyCheckIds, run: checkRunningProxy },
];

/** The ids in report order: docs/doctor.md lists the same (a test checks it). */
export const doctorCheckIds: readonly string[] = checkRunners.flatMap((runner) => runner.ids);

function inspect(options: DoctorOptions): ConfigInspection {
  try {
    return inspectConfig({ ...(options.configPath === undefined ? {} : { path: options.configPath }), env: options.env, cwd: options.cwd });
  } catch (error) {
    // Anything the loader throws besides its own refusals still becomes the config check's failure.
    const problem = error instanceof Error ? error.message : String(error);
    return { configPath: options.configPath, baseDir: options.cwd, problems: [problem], warnings: [], config: undefined, loaded: undefined };
  }
}

async function runOne(runner: CheckRunner, context: DoctorContext): Promise<CheckResult[]> {
  try {
    const results = await runner.run(context);
    return Array.isArray(results) ? results : [results];
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error);
    return runner.ids.map((id) => fail(id, `the check could not run: ${message}`, 'fix the cause named here and run doctor again'));
  }
}

/** Every string of a result through the redactor: a secret a service put in a message stays out of the report. */
function redacted(result: CheckResult): DoctorReport['checks'][number] {
  return {
    id: result.id,
    status: result.status,
    message: redactText(result.message),
    ...(result.fix === undefined ? {} : { fix: redactText(result.fix) }),
    ...(result.details === undefined ? {} : { details: result.details.map((line) => redactText(line)) }),
  };
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const now = options.now ?? new Date();
  const inspection = inspect(options);
  const context: DoctorContext = {
    inspection,
    config: inspection.config,
    env: options.env,
    cwd: options.cwd,
    now,
    replicas: options.replicas,
    workers: options.workers,
    url: options.url,
    containerMode: options.containerMode,
  };
  const checks: DoctorReport['checks'] = [];
  // One after another: the checks share the credential store's inspection and the 2 cores of a CI runner.
  for (const runner of checkRunners) for (const result of await runOne(runner, context)) checks.push(redacted(result));
  const summary = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) summary[check.status] += 1;
  const failed = summary.fail > 0 || (options.strict && summary.warn > 0);
  return {
    schema_version: doctorSchemaVersion,
    tool: 'cliproxyapi doctor',
    version: options.version,
    generated_at: now.toISOString(),
    config: inspection.configPath ?? null,
    strict: options.strict,
    summary,
    ok: !failed,
    exit_code: failed ? 1 : 0,
    checks,
  };
}
