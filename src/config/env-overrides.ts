import { Kind, type TSchema } from '@sinclair/typebox';
import { isPlainRecord } from './config-path.js';
import { ConfigSchema } from './schema.js';

/** Every override variable starts with this; the rest is the config path upper-cased, `.` → `_`. */
export const envPrefix = 'CLIPROXY_';

/**
 * Variables with the prefix that are not config paths: the encryption key (kept out of files on
 * purpose) and the config file location. They are read by their owners and ignored here.
 */
export const reservedEnvNames: ReadonlySet<string> = new Set(['CLIPROXY_ENCRYPTION_KEY', 'CLIPROXY_CONFIG', 'CLIPROXY_ALERT_WEBHOOK_SECRET']);

/** How an override's text becomes a value: by the schema type of the leaf it targets. */
export type EnvLeafType = 'integer' | 'number' | 'boolean' | 'string' | 'json-array';

export interface EnvLeaf {
  readonly path: readonly string[];
  readonly type: EnvLeafType;
}

export interface EnvOverrideResult {
  /** One line per bad variable, naming the variable (never its value: it may be a secret). */
  readonly problems: string[];
  /** Prefixed variables that match no config path: likely typos, reported but not fatal. */
  readonly warnings: string[];
  /** Dotted config path → the variable that set it, so later schema errors can name the variable. */
  readonly sources: Map<string, string>;
}

/**
 * Leaf paths reachable through plain objects of the schema. Records (`providers`) and unions of
 * objects (`state`) are skipped: their keys are user-chosen or their shape depends on another
 * field, so a flat variable name cannot address them unambiguously. Keys contain underscores
 * (`body_limit_bytes`), which is why variables are matched against this table, not split on `_`.
 */
export const envOverrideLeaves: ReadonlyMap<string, EnvLeaf> = buildLeaves();

function buildLeaves(): Map<string, EnvLeaf> {
  const leaves = new Map<string, EnvLeaf>();
  const walk = (schema: TSchema, path: string[]): void => {
    const kind = schema[Kind];
    if (kind === 'Object') {
      const properties = schema['properties'] as Record<string, TSchema>;
      for (const [key, child] of Object.entries(properties)) walk(child, [...path, key]);
      return;
    }
    const type = leafType(schema);
    if (type === undefined) return;
    const name = envPrefix + path.join('_').toUpperCase();
    if (leaves.has(name)) throw new Error(`config schema: ${name} would address two config paths`);
    leaves.set(name, { path, type });
  };
  walk(ConfigSchema, []);
  return leaves;
}

function leafType(schema: TSchema): EnvLeafType | undefined {
  switch (schema[Kind]) {
    case 'Integer':
      return 'integer';
    case 'Number':
      return 'number';
    case 'Boolean':
      return 'boolean';
    case 'String':
      return 'string';
    case 'Array':
      return 'json-array';
    case 'Literal':
      return typeof schema['const'] === 'string' ? 'string' : undefined;
    case 'Union': {
      const variants = schema['anyOf'] as TSchema[];
      return variants.every((variant) => variant[Kind] === 'Literal' && typeof variant['const'] === 'string') ? 'string' : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Applies `CLIPROXY_*` overrides onto `target` (the merged, still mutable config) in place.
 * Coercion follows the schema: integers must be written as integers (`8317`, not `8317.0` or `8e3`),
 * booleans as `true`/`false`, arrays as JSON (`["10.0.0.0/8"]`). Range checks are left to the schema
 * validation that follows, which names the variable through `sources`.
 */
export function applyEnvOverrides(target: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): EnvOverrideResult {
  const result: EnvOverrideResult = { problems: [], warnings: [], sources: new Map() };
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    if (!name.startsWith(envPrefix) || text === undefined || reservedEnvNames.has(name)) continue;
    const leaf = envOverrideLeaves.get(name);
    if (leaf === undefined) {
      result.warnings.push(`${name}: matches no config path; ignored`);
      continue;
    }
    const coerced = coerce(text, leaf.type);
    if (!coerced.ok) {
      result.problems.push(`${name}: ${coerced.expected}`);
      continue;
    }
    if (!setAt(target, leaf.path, coerced.value)) {
      result.problems.push(`${name}: cannot apply, ${leaf.path.slice(0, -1).join('.')} is not a mapping in the config file`);
      continue;
    }
    result.sources.set(leaf.path.join('.'), name);
  }
  return result;
}

type Coerced = { ok: true; value: unknown } | { ok: false; expected: string };

function coerce(text: string, type: EnvLeafType): Coerced {
  const trimmed = text.trim();
  switch (type) {
    case 'integer': {
      const value = Number(trimmed);
      return /^[+-]?[0-9]+$/.test(trimmed) && Number.isSafeInteger(value) ? { ok: true, value } : { ok: false, expected: 'expected an integer' };
    }
    case 'number': {
      const value = Number(trimmed);
      return trimmed !== '' && Number.isFinite(value) ? { ok: true, value } : { ok: false, expected: 'expected a number' };
    }
    case 'boolean': {
      const lower = trimmed.toLowerCase();
      if (lower === 'true') return { ok: true, value: true };
      if (lower === 'false') return { ok: true, value: false };
      return { ok: false, expected: "expected 'true' or 'false'" };
    }
    case 'string':
      return { ok: true, value: text };
    case 'json-array':
      return parseJsonArray(trimmed);
  }
}

function parseJsonArray(text: string): Coerced {
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value)) return { ok: true, value };
  } catch {
    // Fall through: the message below is clearer than the parser's (and does not echo the value).
  }
  return { ok: false, expected: 'expected a JSON array, e.g. ["10.0.0.0/8"]' };
}

/** Sets a leaf, creating missing parent mappings; false when a parent exists but is not a mapping. */
function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): boolean {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    } else if (isPlainRecord(next)) {
      node = next;
    } else {
      return false;
    }
  }
  const last = path[path.length - 1];
  if (last === undefined) return false;
  node[last] = value;
  return true;
}
