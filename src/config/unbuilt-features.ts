/**
 * Config keys that DESIGN.md names but whose layer has not landed yet. Fail closed: a user who
 * turns on a missing layer must not get a gateway that silently ignores it, so
 * turning one on is a config error. A key that is on by default cannot be an error without breaking
 * the embedded default; such a layer produces a startup warning instead (`notActive`), so the
 * operator knows which layers are not active in this version. None is today: alerts, the last of
 * them, are built (src/alerts/); the check stays as the place a layer landing in parts is refused.
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
  void config; // every layer DESIGN.md names is built: nothing to refuse, nothing inactive
  return { errors: [], notActive: '' };
}
