import { type Command, InvalidArgumentError } from 'commander';
import type { ClientKeyFields } from '../../security/client-keys.js';

/**
 * The governance options `keys create` and `keys update` share (docs/keys.md), turned into the
 * fields createClientKey / updateClientKey take. Values are only parsed here; the ranges and the
 * policy are checked by the same function the management API calls, so both refuse alike.
 */
export interface KeyFieldOptions {
  models?: string;
  providers?: string;
  expiresAt?: string;
  expiresIn?: string;
  disabled?: boolean;
  enable?: boolean;
  rpm?: number;
  tpm?: number;
  maxConcurrency?: number;
  concurrencyWaitMs?: number;
  tokensPerDay?: number;
  tokensPerMonth?: number;
  metadata?: string[];
  clear?: string[];
}

function wholeNumber(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

function collected(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Adds the shared options to `keys create` or `keys update`; `update` also gets --enable and --clear. */
export function addKeyFieldOptions(command: Command, forUpdate: boolean): Command {
  command
    .option('--models <patterns>', "comma-separated model allowlist, '*' wildcards (claude-*,gpt-4o)")
    .option('--providers <patterns>', 'comma-separated provider allowlist, \'*\' wildcards')
    .option('--expires-at <time>', 'RFC 3339 time the key stops working (2027-01-31T23:59:59Z)')
    .option('--expires-in <duration>', 'or a duration from now: 30d, 12h, 90m')
    .option('--disabled', 'refuse the key (401) until updated with --enable')
    .option('--rpm <n>', 'requests per minute', wholeNumber)
    .option('--tpm <n>', 'tokens per minute', wholeNumber)
    .option('--max-concurrency <n>', 'requests in flight at once', wholeNumber)
    .option('--concurrency-wait-ms <ms>', 'how long a request over --max-concurrency waits for a slot before 429 (default 0)', wholeNumber)
    .option('--tokens-per-day <n>', 'token budget per UTC day', wholeNumber)
    .option('--tokens-per-month <n>', 'token budget per UTC month', wholeNumber)
    .option('--metadata <key=value>', 'a label (team=search); repeat for more', collected);
  if (forUpdate) {
    command.option('--enable', 'lift --disabled').option('--clear <field>', 'remove a field (models, providers, expires_at, rate_limit, max_concurrency, budgets, metadata); repeat for more', collected);
  }
  return command;
}

/** `30d`, `12h`, `90m` → milliseconds. */
function durationMs(text: string): number {
  const match = /^([0-9]+)(d|h|m)$/.exec(text);
  if (match === null) throw new InvalidArgumentError(`--expires-in '${text}': use a number and d, h or m (30d)`);
  return Number(match[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[match[2] as 'd' | 'h' | 'm'];
}

function patterns(text: string): string[] {
  return text.split(',').map((pattern) => pattern.trim()).filter((pattern) => pattern !== '');
}

/**
 * The fields the options ask for. On update, a limit given alone keeps its sibling
 * (`--tpm` leaves the key's requests_per_minute): `current` is the key's stored fields.
 */
export function keyFieldsFrom(options: KeyFieldOptions, now: number, current: ClientKeyFields = {}): ClientKeyFields {
  const fields: ClientKeyFields = {};
  for (const name of options.clear ?? []) (fields as Record<string, null>)[name] = null;
  if (options.models !== undefined) fields.models = patterns(options.models);
  if (options.providers !== undefined) fields.providers = patterns(options.providers);
  if (options.expiresAt !== undefined && options.expiresIn !== undefined) throw new InvalidArgumentError('give --expires-at or --expires-in, not both');
  if (options.expiresAt !== undefined) fields.expires_at = options.expiresAt;
  if (options.expiresIn !== undefined) fields.expires_at = new Date(now + durationMs(options.expiresIn)).toISOString();
  if (options.disabled === true && options.enable === true) throw new InvalidArgumentError('give --disabled or --enable, not both');
  if (options.disabled === true) fields.disabled = true;
  if (options.enable === true) fields.disabled = null;
  if (options.rpm !== undefined || options.tpm !== undefined) {
    fields.rate_limit = { ...(current.rate_limit ?? {}), ...(options.rpm === undefined ? {} : { requests_per_minute: options.rpm }), ...(options.tpm === undefined ? {} : { tokens_per_minute: options.tpm }) };
  }
  if (options.maxConcurrency !== undefined) fields.max_concurrency = options.maxConcurrency;
  if (options.concurrencyWaitMs !== undefined) fields.concurrency_wait_ms = options.concurrencyWaitMs;
  if (options.tokensPerDay !== undefined || options.tokensPerMonth !== undefined) {
    fields.budgets = {
      ...(current.budgets ?? {}),
      ...(options.tokensPerDay === undefined ? {} : { tokens_per_day: options.tokensPerDay }),
      ...(options.tokensPerMonth === undefined ? {} : { tokens_per_month: options.tokensPerMonth }),
    };
  }
  if (options.metadata !== undefined) {
    const metadata: Record<string, string> = { ...(current.metadata ?? {}) };
    for (const pair of options.metadata) {
      const equals = pair.indexOf('=');
      if (equals <= 0) throw new InvalidArgumentError(`--metadata '${pair}': use key=value`);
      metadata[pair.slice(0, equals)] = pair.slice(equals + 1);
    }
    fields.metadata = metadata;
  }
  return fields;
}
