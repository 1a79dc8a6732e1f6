import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { formatConfigPath, segmentsFromPointer } from './config-path.js';
import { couldBeSecret, describeFound, likelyKey } from './describe-found.js';
import { ConfigSchema } from './schema.js';

/** Errors read from TypeBox per variant of a union; more than this and the variant is clearly wrong. */
const maxErrorsPerVariant = 20;

interface Problem {
  readonly pointer: string;
  readonly message: string;
}

/**
 * Every schema violation of `value` against the config schema, one line each, named by path:
 * `server.port: expected integer`, `server.prot: unknown key`. A union (client key, upstream key,
 * state backend) reports the errors of the variant that came closest instead of a bare
 * "expected union value", so the operator learns which field of their entry is wrong.
 *
 * `sourceOf` maps a dotted path to the env variable that set it, so an out-of-range override is
 * reported as coming from `CLIPROXY_SERVER_PORT` rather than from a file that does not contain it.
 */
export function schemaProblems(value: unknown, sourceOf: ReadonlyMap<string, string> = new Map()): string[] {
  const problems = dedupe(collect(Value.Errors(ConfigSchema, value)));
  return problems.map((problem) => {
    const path = formatConfigPath(segmentsFromPointer(problem.pointer));
    const variable = sourceOf.get(path);
    return variable === undefined ? `${path}: ${problem.message}` : `${path}: ${problem.message} (set by ${variable})`;
  });
}

function collect(errors: Iterable<ValueError>): Problem[] {
  const problems: Problem[] = [];
  for (const error of errors) problems.push(...describe(error));
  return problems;
}

function describe(error: ValueError): Problem[] {
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return [{ pointer: error.path, message: describeUnknownKey(error) }];
    case ValueErrorType.ObjectRequiredProperty:
      return [{ pointer: error.path, message: 'missing required key' }];
    case ValueErrorType.Union:
      return describeUnion(error);
    case ValueErrorType.StringPattern:
      return [{ pointer: error.path, message: describePattern(error.schema) }];
    default:
      return [{ pointer: error.path, message: `${lowerFirst(error.message)}; ${describeFound(error.value, segmentsFromPointer(error.path))}` }];
  }
}

/**
 * `unknown key; did you mean 'api_keys'?`. The name itself is in the path (masked there when it
 * could be a secret); a name that could be a secret gets a hint instead of a suggestion.
 */
function describeUnknownKey(error: ValueError): string {
  const name = String(segmentsFromPointer(error.path).at(-1) ?? '');
  if (couldBeSecret(name)) return 'unknown key that looks like a secret: was a list item (- value) meant? The name is masked here';
  const properties: unknown = error.schema['properties'];
  const known = properties !== null && typeof properties === 'object' ? Object.keys(properties) : [];
  const suggestion = likelyKey(name, known);
  return suggestion === undefined ? 'unknown key' : `unknown key; did you mean '${suggestion}'?`;
}

/**
 * Picks the union variant that came closest: variants whose literal discriminator (`backend: redis`)
 * mismatched are dropped first, then the one with the fewest errors wins. When every variant fails
 * at the union's own path (wrong type altogether), the expectations are joined: "expected string or object".
 */
function describeUnion(error: ValueError): Problem[] {
  const variants = error.errors.map((iterator) => takeBounded(iterator));
  const allAtUnionPath = variants.every((errors) => errors.length > 0 && errors.every((inner) => inner.path === error.path));
  if (allAtUnionPath) {
    const expectations = [...new Set(variants.flatMap((errors) => errors.map((inner) => lowerFirst(inner.message).replace(/^expected /, ''))))];
    const listed = expectations.length > 2 ? `one of ${expectations.join(', ')}` : expectations.join(' or ');
    return [{ pointer: error.path, message: `expected ${listed}; ${describeFound(error.value, segmentsFromPointer(error.path))}` }];
  }
  const withoutLiteralMismatch = preferWhereSome(variants, (errors) => !errors.some((inner) => inner.type === ValueErrorType.Literal));
  // A variant whose type matched (errors only below the union's path) beats one that wanted another type.
  const candidates = preferWhereSome(withoutLiteralMismatch, (errors) => errors.every((inner) => inner.path !== error.path));
  let best = candidates[0] ?? [];
  for (const candidate of candidates) if (candidate.length < best.length) best = candidate;
  return best.length === 0 ? [{ pointer: error.path, message: 'does not match any allowed shape' }] : collect(best);
}

function preferWhereSome<T>(items: readonly T[], predicate: (item: T) => boolean): readonly T[] {
  const preferred = items.filter(predicate);
  return preferred.length > 0 ? preferred : items;
}

function takeBounded(errors: Iterable<ValueError>): ValueError[] {
  const taken: ValueError[] = [];
  for (const error of errors) {
    taken.push(error);
    if (taken.length >= maxErrorsPerVariant) break;
  }
  return taken;
}

function describePattern(schema: TSchema): string {
  const pattern: unknown = schema['pattern'];
  if (pattern === '^[0-9a-fA-F]{64}$') return 'expected 64 hex characters (a SHA-256 digest)';
  if (pattern === '^https?://') return 'expected an http:// or https:// URL';
  if (pattern === '^rediss?://') return 'expected a redis:// or rediss:// URL';
  return typeof pattern === 'string' ? `expected a string matching ${pattern}` : 'does not match the expected pattern';
}

/**
 * A missing key also yields "expected integer" at the same path; keep only "missing required key".
 * Identical lines (the same error reached through two union variants) are kept once.
 */
function dedupe(problems: readonly Problem[]): Problem[] {
  const missing = new Set(problems.filter((problem) => problem.message === 'missing required key').map((problem) => problem.pointer));
  const seen = new Set<string>();
  const kept: Problem[] = [];
  for (const problem of problems) {
    if (missing.has(problem.pointer) && problem.message !== 'missing required key') continue;
    const key = `${problem.pointer}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(problem);
  }
  return kept;
}

function lowerFirst(text: string): string {
  return text.length === 0 ? text : text[0]!.toLowerCase() + text.slice(1);
}
