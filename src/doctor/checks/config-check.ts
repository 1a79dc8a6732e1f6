import { fail, pass, warn, type CheckResult, type DoctorContext } from '../check-result.js';
import { configFindingsFor } from '../config-findings.js';

/**
 * `config`: the file is read, parsed and validated by the loader `serve` uses (loadConfig's
 * pipeline, config/load.ts inspectConfig). Problems that belong to another check (a placeholder
 * client key, TLS, the management API…) are reported there; this check keeps the rest (unknown
 * keys, wrong types, unreadable file).
 */
export function checkConfig(context: DoctorContext): CheckResult {
  const { inspection } = context;
  const source = inspection.configPath ?? 'the built-in default';
  const own = configFindingsFor('config', inspection);
  const checkCommand = inspection.configPath === undefined ? 'cliproxyapi config check FILE' : `cliproxyapi config check ${inspection.configPath}`;
  if (own.problems.length > 0 || context.config === undefined) {
    return fail('config', `${source} cannot be loaded (${own.problems.length} problem(s) below)`, `edit the file until \`${checkCommand}\` passes`, own.problems);
  }
  if (inspection.configPath === undefined) {
    return warn('config', 'no config file given or found: checking the built-in default', 'pass --config FILE (or set CLIPROXY_CONFIG) to check the config the deployment uses');
  }
  if (own.warnings.length > 0) return warn('config', `${source} loads, with ${own.warnings.length} warning(s)`, 'see each warning', own.warnings);
  const elsewhere = inspection.problems.length;
  return pass('config', elsewhere === 0 ? `${source} loads` : `${source} is well-formed; ${elsewhere} problem(s) reported by the checks they belong to`);
}
