import { formatConfigPath, isPlainRecord } from './config-path.js';

/**
 * Config keys that DESIGN.md names but whose layer has not landed yet. Fail closed: a user who
 * turns on an IP allowlist must not get a gateway that silently ignores it, so turning one
 * on is a config error. Keys that are on by default (per-IP rate limit, audit, encryption) cannot
 * be errors without breaking the embedded default; those produce a startup warning instead, so
 * the operator knows which layers are not active in this version.
 */
export interface UnbuiltFeatureReport {
  errors: string[];
  /** For the startup log (not part of LoadedConfig.warnings, which describe the file itself). */
  notActive: string;
}

/**
 * Reads the config defensively (over `unknown`, like the semantic checks), so it runs even when the
 * schema check failed: `config check` lists "the IP allowlist is not available" together with a typo elsewhere,
 * in one pass.
 */
export function checkUnbuiltFeatures(config: unknown): UnbuiltFeatureReport {
  const errors: string[] = [];
  const notActive: string[] = [];
  const refuse = (path: string, layer: string) => errors.push(`${path}: ${layer} is not available in this version yet; remove the setting`);
  const listLength = (value: unknown) => (Array.isArray(value) ? value.length : 0);

  if (valueAt(config, 'server', 'security', 'ip_allowlist', 'enabled') === true) refuse('server.security.ip_allowlist.enabled', 'the IP allowlist');
  if (listLength(valueAt(config, 'server', 'security', 'ip_denylist')) > 0) refuse('server.security.ip_denylist', 'the IP denylist');
  if (listLength(valueAt(config, 'alerts')) > 0) refuse('alerts', 'alerting');
  if (valueAt(config, 'management', 'enabled') === true) refuse('management.enabled', 'the management API');
  const providers = valueAt(config, 'providers');
  for (const [name, provider] of Object.entries(isPlainRecord(providers) ? providers : {})) {
    if (isPlainRecord(provider) && provider['rate_limit'] !== undefined) refuse(formatConfigPath(['providers', name, 'rate_limit']), 'per-provider rate limiting');
  }

  notActive.push('per-IP rate limit (server.security.rate_limit)');
  // Harmless to accept: no IP-based decision exists yet, so no X-Forwarded-For can be believed wrongly.
  if (listLength(valueAt(config, 'server', 'trusted_proxies')) > 0) notActive.push('X-Forwarded-For handling (server.trusted_proxies)');
  if (valueAt(config, 'audit', 'enabled') === true) notActive.push('audit log (audit.*)');
  return { errors, notActive: `Security layers not active in this version: ${notActive.join('; ')}.` };
}

function valueAt(root: unknown, ...path: string[]): unknown {
  let node = root;
  for (const key of path) node = isPlainRecord(node) ? node[key] : undefined;
  return node;
}
