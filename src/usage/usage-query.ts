import type { UsageEntry } from './usage-store.js';

/**
 * The summary `cliproxyapi usage` prints and `GET /v0/management/usage` returns: usage since a
 * time, per key, optionally split by provider, model or credential (which upstream account a key
 * drains). One function for both, so they always agree.
 */
export type UsageDimension = 'provider' | 'model' | 'credential';

export interface UsageQuery {
  /** Only this key id. */
  key?: string;
  /** Epoch milliseconds; hours starting before the hour of this time are left out. */
  since: number;
  by?: UsageDimension;
}

export interface UsageRow {
  key: string;
  /** The value of `by` (absent without `by`). */
  provider?: string;
  model?: string;
  credential?: string;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
}

/** `7d`, `24h`, `90m` → milliseconds; undefined for anything else. */
export function parseSince(text: string): number | undefined {
  const match = /^([0-9]{1,6})(d|h|m)$/.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[match[2] as 'd' | 'h' | 'm'];
}

/** Sums `entries` into rows, largest token use first. */
export function summarizeUsage(entries: readonly UsageEntry[], query: UsageQuery): UsageRow[] {
  const firstHour = new Date(query.since).toISOString().slice(0, 13);
  const rows = new Map<string, UsageRow>();
  for (const entry of entries) {
    if (entry.hour < firstHour || (query.key !== undefined && entry.key !== query.key)) continue;
    const split = query.by === undefined ? undefined : entry[query.by];
    const id = split === undefined ? entry.key : `${entry.key}\u0000${split}`;
    let row = rows.get(id);
    if (row === undefined) {
      row = { key: entry.key, ...(query.by === undefined ? {} : { [query.by]: split }), requests: 0, errors: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0 };
      rows.set(id, row);
    }
    row.requests += entry.requests;
    row.errors += entry.errors;
    row.input_tokens += entry.inputTokens;
    row.output_tokens += entry.outputTokens;
    row.cached_tokens += entry.cachedTokens;
  }
  return [...rows.values()].sort((left, right) => right.input_tokens + right.output_tokens - (left.input_tokens + left.output_tokens) || left.key.localeCompare(right.key));
}

/** Tokens (input + output) per key in the hours at or after `since` (budget seeding at start). */
export function tokensByKeySince(entries: readonly UsageEntry[], since: number): Map<string, number> {
  const firstHour = new Date(since).toISOString().slice(0, 13);
  const totals = new Map<string, number>();
  for (const entry of entries) {
    if (entry.hour < firstHour) continue;
    totals.set(entry.key, (totals.get(entry.key) ?? 0) + entry.inputTokens + entry.outputTokens);
  }
  return totals;
}

/**
 * Tokens (input + output) each key has used in the current UTC day and month, as recorded (settled
 * usage; requests in flight are not in it yet): what `keys list` and the management API show
 * beside a key's budgets.
 */
export function budgetUseByKey(entries: readonly UsageEntry[], now: number): Map<string, { day: number; month: number }> {
  const today = new Date(now).toISOString();
  const day = tokensByKeySince(entries, Date.parse(`${today.slice(0, 10)}T00:00:00Z`));
  const month = tokensByKeySince(entries, Date.parse(`${today.slice(0, 7)}-01T00:00:00Z`));
  const use = new Map<string, { day: number; month: number }>();
  for (const [key, tokens] of month) use.set(key, { day: day.get(key) ?? 0, month: tokens });
  return use;
}

/** The rows as a fixed-width table (the CLI's default output). */
export function usageTable(rows: readonly UsageRow[], by: UsageDimension | undefined): string {
  const header = ['KEY', ...(by === undefined ? [] : [by.toUpperCase()]), 'REQUESTS', 'ERRORS', 'INPUT', 'OUTPUT', 'CACHED'];
  const lines = rows.map((row) => [row.key, ...(by === undefined ? [] : [String(row[by] ?? '-')]), String(row.requests), String(row.errors), String(row.input_tokens), String(row.output_tokens), String(row.cached_tokens)]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  return [header, ...lines].map((line) => line.map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n') + '\n';
}
