import { isPlainRecord } from './config-path.js';

/**
 * Config keys that DESIGN.md names but whose layer has not landed yet. Fail closed: a user who
 * turns on alerting must not get a gateway that silently ignores it, so
 * turning one on is a config error. A key that is on by default cannot be an error without breaking
 * the embedded default; such a layer produces a startup warning instead (`notActive`), so the
 * operator knows which layers are not active in this version. None is today: the audit log, the
 * last of them, is built (src/audit/).
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

  if (listLength(valueAt(config, 'alerts')) > 0) refuse('alerts', 'alerting');
  return { errors, notActive: notActive.length === 0 ? '' : `Security layers not active in this version: ${notActive.join('; ')}.` };
}

function valueAt(root: unknown, ...path: string[]): unknown {
  let node = root;
  for (const key of path) node = isPlainRecord(node) ? node[key] : undefined;
  return node;
}
