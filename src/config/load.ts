import { dirname, isAbsolute, resolve } from 'node:path';
import { FileReadError, readRegularFileSync } from '../files/read-file.js';
import { ConfigError } from './config-error.js';
import { isPlainRecord } from './config-path.js';
import { deepFreeze } from './deep-freeze.js';
import { defaultConfig } from './defaults.js';
import { applyEnvOverrides } from './env-overrides.js';
import { maxConfigBytes, parseYaml } from './parse-yaml.js';
import type { Config, ReadonlyConfig } from './schema.js';
import { schemaProblems } from './validate-schema.js';
import { semanticChecks } from './validate-semantics.js';
import { checkUnbuiltFeatures } from './unbuilt-features.js';

export { ConfigError, isConfigError } from './config-error.js';
export type { DeepReadonly } from './deep-freeze.js';

/** A validated, deep-frozen config and where it came from. Replaced whole on hot reload. */
export interface LoadedConfig {
  readonly config: ReadonlyConfig;
  /** Absolute path of the file, or undefined when running on the embedded default. */
  readonly configPath: string | undefined;
  /** Directory relative paths were resolved against: the file's directory, else the working directory. */
  readonly baseDir: string;
  /** Non-fatal findings (plain client keys, unknown CLIPROXY_ variables, ...): log them at startup. */
  readonly warnings: readonly string[];
}

export type EnvSource = Readonly<Record<string, string | undefined>>;

/** Path-valued keys, resolved against `baseDir` so the server does not depend on its working directory. */
const pathKeys: readonly (readonly string[])[] = [
  ['auth', 'dir'],
  ['auth', 'client_keys_file'],
  ['management', 'keys_file'],
  ['management', 'totp_file'],
  ['auth', 'encryption', 'key_file'],
  ['audit', 'file'],
  ['audit', 'key_file'],
  ['usage', 'file'],
  ['alerting', 'webhook', 'secret_file'],
  ['server', 'tls', 'cert_file'],
  ['server', 'tls', 'key_file'],
  ['server', 'tls', 'management_client_ca_file'],
];

/**
 * Loads the config: the YAML file at `path` (relative to `cwd`), or the embedded default when no
 * path is given; then `CLIPROXY_*` env overrides; then schema and semantic validation.
 * Throws ConfigError listing every problem: an invalid config must stop startup before listening.
 */
export function loadConfig(options: { path?: string; env?: EnvSource; cwd?: string } = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  if (options.path === undefined) {
    return buildLoadedConfig({}, { sourceName: '(embedded default)', baseDir: cwd, env, configPath: undefined });
  }
  const configPath = resolve(cwd, options.path);
  const text = readConfigFile(configPath);
  const user = parseYaml(text, configPath);
  return buildLoadedConfig(user, { sourceName: configPath, baseDir: dirname(configPath), env, configPath });
}

/**
 * Same pipeline as loadConfig for text already in memory (tests, the management API's "validate
 * this config" endpoint). `sourceName` only labels error messages; `configPath` is undefined.
 */
export function parseConfigText(text: string, options: { sourceName: string; baseDir: string; env?: EnvSource }): LoadedConfig {
  const user = parseYaml(text, options.sourceName);
  return buildLoadedConfig(user, { sourceName: options.sourceName, baseDir: options.baseDir, env: options.env ?? process.env, configPath: undefined });
}

/**
 * Reads the config file through one non-blocking descriptor (files/read-file.ts): a FIFO must not
 * hang the start, and a path that is not a regular file (`-c /dev/null` would otherwise start on
 * the defaults with `/dev` as the base of every relative data path, `/dev/zero` would never end)
 * is an error. A symlink to a regular file is fine: config maps are mounted as symlinks.
 */
function readConfigFile(configPath: string): string {
  try {
    return readRegularFileSync(configPath, { maxBytes: maxConfigBytes, followSymlinks: true }).content.toString('utf8');
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    const problem =
      error.reason === 'missing' ? 'file not found' : error.reason === 'not-regular' ? `${error.problem}; pass a YAML file, or no --config for the built-in default` : error.problem;
    throw new ConfigError(configPath, [problem], 'CONFIG_UNREADABLE');
  }
}

function buildLoadedConfig(
  user: unknown,
  context: { sourceName: string; baseDir: string; env: EnvSource; configPath: string | undefined },
): LoadedConfig {
  const assembled = assembleConfig(user, context);
  if (assembled.problems.length > 0) throw new ConfigError(context.sourceName, assembled.problems);
  return deepFreeze({
    config: assembled.merged as unknown as Config,
    configPath: context.configPath,
    baseDir: context.baseDir,
    warnings: assembled.warnings,
  });
}

interface AssembledConfig {
  merged: Record<string, unknown>;
  problems: string[];
  warnings: string[];
  /** True when the schema accepted the merged config: its shape is `Config`, whatever the other problems. */
  schemaValid: boolean;
}

/** Defaults, the user's file, env overrides, then every check: the one pipeline of loadConfig and inspectConfig. */
function assembleConfig(user: unknown, context: { baseDir: string; env: EnvSource }): AssembledConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  let userRecord: Record<string, unknown> = {};
  if (isPlainRecord(user)) userRecord = user;
  else if (user !== null && user !== undefined) problems.push('(top level): expected a mapping of config sections');

  const defaults: Record<string, unknown> = structuredClone(defaultConfig);
  const merged = mergeOver(defaults, userRecord);
  const overrides = applyEnvOverrides(merged, context.env);
  problems.push(...overrides.problems);
  warnings.push(...overrides.warnings);

  const schemaFindings = schemaProblems(merged, overrides.sources);
  problems.push(...schemaFindings);
  resolvePaths(merged, context.baseDir);
  const semantic = semanticChecks(merged);
  problems.push(...semantic.problems);
  warnings.push(...semantic.warnings);
  problems.push(...checkUnbuiltFeatures(merged).errors);
  // A file that is not a mapping was replaced by the defaults above: those are not the user's config.
  const userShapeValid = isPlainRecord(user) || user === null || user === undefined;
  return { merged, problems, warnings, schemaValid: schemaFindings.length === 0 && userShapeValid };
}

/** What `doctor` learns from a config without refusing it (config/load.ts pipeline, nothing skipped). */
export interface ConfigInspection {
  /** Absolute path of the file, or undefined for the embedded default. */
  readonly configPath: string | undefined;
  readonly baseDir: string;
  /** Every problem loadConfig would refuse the config for; empty when it loads. */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
  /** The config when the file could be read and the schema accepted it (even with other problems), frozen. */
  readonly config: ReadonlyConfig | undefined;
  /** The loaded config exactly as `serve` would run it: only when there is no problem at all. */
  readonly loaded: LoadedConfig | undefined;
}

/**
 * The same pipeline as loadConfig, but a problem is reported instead of thrown, and the config is
 * still returned when only the rules beyond the schema refused it: `doctor` then reports each
 * problem under the check it belongs to and still runs the checks that need the config.
 */
export function inspectConfig(options: { path?: string; env?: EnvSource; cwd?: string } = {}): ConfigInspection {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const configPath = options.path === undefined ? undefined : resolve(cwd, options.path);
  const baseDir = configPath === undefined ? cwd : dirname(configPath);
  let user: unknown = {};
  if (configPath !== undefined) {
    try {
      user = parseYaml(readConfigFile(configPath), configPath);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return { configPath, baseDir, problems: error.problems, warnings: [], config: undefined, loaded: undefined };
    }
  }
  const assembled = assembleConfig(user, { baseDir, env });
  const config = assembled.schemaValid ? (deepFreeze(assembled.merged) as unknown as ReadonlyConfig) : undefined;
  const loaded = assembled.problems.length === 0 && config !== undefined ? deepFreeze({ config, configPath, baseDir, warnings: assembled.warnings }) : undefined;
  return { configPath, baseDir, problems: assembled.problems, warnings: assembled.warnings, config, loaded };
}

/**
 * Deep merge of user values over defaults: mappings merge key by key, anything else (arrays
 * included) replaces. Keys are defined as own data properties, so a YAML key `__proto__` stays an
 * ordinary key that the schema then rejects as unknown, instead of rewriting a prototype.
 */
function mergeOver(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(override)) {
    const current = Object.prototype.hasOwnProperty.call(base, key) ? base[key] : undefined;
    const incoming = override[key];
    const value = isPlainRecord(current) && isPlainRecord(incoming) ? mergeOver(current, incoming) : incoming;
    Object.defineProperty(base, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return base;
}

function resolvePaths(config: Record<string, unknown>, baseDir: string): void {
  for (const path of pathKeys) {
    let node: unknown = config;
    for (const key of path.slice(0, -1)) node = isPlainRecord(node) ? node[key] : undefined;
    const last = path[path.length - 1];
    if (!isPlainRecord(node) || last === undefined) continue;
    const value = node[last];
    if (typeof value === 'string' && value !== '' && !isAbsolute(value)) node[last] = resolve(baseDir, value);
  }
}
