import type { ClientKeyPolicyConfig } from '../config/schema.js';

/**
 * A client key's policy (docs/keys.md), compiled once per config load or reload from the key's
 * fields in `auth.api_keys` or the key file: the patterns become one regular expression per list,
 * the expiry an epoch number. The request path only reads it: no parsing, no allocation.
 */

/** An allowlist of names with `*` wildcards (the same syntax as `excluded_models`). */
export interface NamePatternList {
  /** True when a pattern matches the whole name. */
  matches(name: string): boolean;
  /** The patterns as configured: what a 403 tells the key it may use. */
  readonly patterns: readonly string[];
}

/** Per-minute request and token buckets of one key (the shape of `providers.<name>.rate_limit`). */
export interface KeyRateLimit {
  readonly requests_per_minute?: number | undefined;
  readonly tokens_per_minute?: number | undefined;
}

/** Token budgets per UTC calendar day and month. */
export interface KeyBudgets {
  readonly tokens_per_day?: number | undefined;
  readonly tokens_per_month?: number | undefined;
}

export interface ClientKeyPolicy {
  /** Absent: every model. */
  readonly models?: NamePatternList;
  /** Absent: every provider. */
  readonly providers?: NamePatternList;
  /** Epoch milliseconds from which the key is refused (401, expired). */
  readonly expiresAt?: number;
  readonly disabled?: true;
  readonly rateLimit?: KeyRateLimit;
  readonly maxConcurrency?: number;
  /** How long a request over `maxConcurrency` waits for a slot before 429 (0: refused at once). */
  readonly concurrencyWaitMs?: number;
  readonly budgets?: KeyBudgets;
  readonly metadata?: Readonly<Record<string, string>>;
  /** True when `models` or `providers` is set: the route checks the scope. */
  readonly scoped: boolean;
  /**
   * True when the key has a rate limit, a concurrency cap or a budget: only then does a request do
   * the (possibly asynchronous) reservation work. An unlimited key pays one boolean test.
   */
  readonly limited: boolean;
}

function escaped(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Compiles a pattern list into one anchored regular expression; `*` is any run of characters. */
export function compileNamePatterns(patterns: readonly string[]): NamePatternList {
  const expression = new RegExp(`^(?:${patterns.map((pattern) => pattern.split('*').map(escaped).join('.*')).join('|')})$`);
  return Object.freeze({ matches: (name: string) => expression.test(name), patterns: Object.freeze([...patterns]) });
}

/** Thrown for a field the schema cannot check (an RFC 3339 date that does not exist); names the key. */
export class KeyPolicyError extends Error {
  override readonly name = 'KeyPolicyError';
}

/**
 * Compiles the policy fields of one key. `expires_at` must be a real date (the schema checked its
 * shape); an empty `models` or `providers` list is refused: it would lock the key out of everything,
 * which `disabled: true` says plainly.
 */
export function compileKeyPolicy(id: string, fields: ClientKeyPolicyConfig): ClientKeyPolicy {
  const policy: { -readonly [Field in keyof ClientKeyPolicy]: ClientKeyPolicy[Field] } = { scoped: false, limited: false };
  if (fields.models !== undefined) {
    if (fields.models.length === 0) throw new KeyPolicyError(`client key '${id}': models is empty (use disabled: true to lock a key out)`);
    policy.models = compileNamePatterns(fields.models);
    policy.scoped = true;
  }
  if (fields.providers !== undefined) {
    if (fields.providers.length === 0) throw new KeyPolicyError(`client key '${id}': providers is empty (use disabled: true to lock a key out)`);
    policy.providers = compileNamePatterns(fields.providers);
    policy.scoped = true;
  }
  if (fields.expires_at !== undefined) {
    const expiresAt = Date.parse(fields.expires_at);
    if (!Number.isFinite(expiresAt) || !sameCalendarDate(fields.expires_at, expiresAt)) throw new KeyPolicyError(`client key '${id}': expires_at '${fields.expires_at}' is not a valid RFC 3339 date-time`);
    policy.expiresAt = expiresAt;
  }
  if (fields.disabled === true) policy.disabled = true;
  const rateLimit = fields.rate_limit;
  if (rateLimit !== undefined && (rateLimit.requests_per_minute !== undefined || rateLimit.tokens_per_minute !== undefined)) {
    policy.rateLimit = Object.freeze({ ...rateLimit });
    policy.limited = true;
  }
  if (fields.max_concurrency !== undefined) {
    policy.maxConcurrency = fields.max_concurrency;
    policy.concurrencyWaitMs = fields.concurrency_wait_ms ?? 0;
    policy.limited = true;
  } else if (fields.concurrency_wait_ms !== undefined) {
    throw new KeyPolicyError(`client key '${id}': concurrency_wait_ms needs max_concurrency`);
  }
  const budgets = fields.budgets;
  if (budgets !== undefined && (budgets.tokens_per_day !== undefined || budgets.tokens_per_month !== undefined)) {
    policy.budgets = Object.freeze({ ...budgets });
    policy.limited = true;
  }
  if (fields.metadata !== undefined) policy.metadata = Object.freeze({ ...fields.metadata });
  return Object.freeze(policy);
}

/** Date.parse rolls `2027-02-30` over to March: the written day must survive the round trip. */
function sameCalendarDate(written: string, parsed: number): boolean {
  const offset = /([+-])([0-9]{2}):([0-9]{2})$/.exec(written);
  const offsetMs = offset === null ? 0 : (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000;
  return new Date(parsed + offsetMs).toISOString().slice(0, 10) === written.slice(0, 10);
}

/** Whether the policy lets a request reach `provider` for a model asked as `requested` (served upstream as `upstream`). */
export function policyAllows(policy: ClientKeyPolicy, provider: string, requested: string, upstream: string): boolean {
  if (policy.providers !== undefined && !policy.providers.matches(provider)) return false;
  if (policy.models !== undefined && !policy.models.matches(requested) && !policy.models.matches(upstream)) return false;
  return true;
}

/** What a scoped key may use, for its 403: its own patterns, never the gateway's other models. */
export function describeScope(policy: ClientKeyPolicy): string {
  const parts: string[] = [];
  if (policy.models !== undefined) parts.push(`models ${policy.models.patterns.join(', ')}`);
  if (policy.providers !== undefined) parts.push(`providers ${policy.providers.patterns.join(', ')}`);
  return parts.join('; ');
}
