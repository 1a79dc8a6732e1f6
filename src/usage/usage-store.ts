import { appendFile, readFile, rename, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { withFileLock } from '../files/file-lock.js';
import { ensurePrivateDirectory, fsyncDirectory, privateFileMode } from '../files/private-file.js';

/**
 * Token usage per client key, provider, model and credential, by UTC hour (docs/keys.md#usage),
 * kept in an append-only JSON-lines file in the data directory (`usage.file`, mode 0600).
 *
 * Why a file and not SQLite (`better-sqlite3`): a native module would have to be built for every
 * Node version × architecture of the release matrix, cannot be installed with the container's
 * `npm ci --ignore-scripts`, widens the seccomp profile (`scripts/derive-seccomp.sh --check`) and
 * the SBOM, and the data is append-mostly with only aggregate reads. One line per (hour, key,
 * provider, model, credential) delta, summed when read, does that with Node's own `fs`.
 *
 * How lines reach the disk: `record` only adds to an in-memory delta (no I/O on the request path);
 * every `flushIntervalMs` the deltas are appended as lines under the file's lock (several processes
 * of `serve --workers` share one file), and at close. **What a crash loses**: a process killed with
 * SIGKILL loses the deltas of at most the last `flushIntervalMs` (1 s by default); an append cut
 * short leaves a partial last line, which reading skips (the rest of the file counts). Compaction
 * (at start, and when the file passes `compactAboveBytes`) rewrites the file as one line per entry,
 * atomically (temp file 0600, fsync, rename): a crash during it leaves the old or the new file.
 */
export interface UsageDelta {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
}

/** One aggregated entry: where the usage went, and how much. `hour` is `YYYY-MM-DDTHH` (UTC). */
export interface UsageEntry extends UsageDelta {
  hour: string;
  key: string;
  provider: string;
  model: string;
  credential: string;
}

export interface UsageStoreOptions {
  file: string;
  flushIntervalMs: number;
  /** Rewrite the file as aggregates once it is larger than this (default 16 MiB). */
  compactAboveBytes?: number;
  /** Entries older than this are dropped at compaction (default 400 days). */
  retentionMs?: number;
  now?: () => number;
  /** A flush failed (kept, retried at the next one): for the server's log. */
  onError?: (error: unknown) => void;
}

const separator = '\u0000';
const hourMs = 3_600_000;

let cachedHourNumber = -1;
let cachedHour = '';

/** `YYYY-MM-DDTHH` of an epoch time, UTC; the string is built once per hour, not per request. */
export function hourOf(time: number): string {
  const hourNumber = Math.floor(time / hourMs);
  if (hourNumber !== cachedHourNumber) {
    cachedHour = new Date(hourNumber * hourMs).toISOString().slice(0, 13);
    cachedHourNumber = hourNumber;
  }
  return cachedHour;
}

function entryKey(entry: Omit<UsageEntry, keyof UsageDelta>): string {
  // Concatenation, not an array and a join: this runs once per request.
  return entry.hour + separator + entry.key + separator + entry.provider + separator + entry.model + separator + entry.credential;
}

function emptyDelta(): UsageDelta {
  return { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
}

function addInto(target: UsageDelta, delta: UsageDelta): void {
  target.requests += delta.requests;
  target.errors += delta.errors;
  target.inputTokens += delta.inputTokens;
  target.outputTokens += delta.outputTokens;
  target.cachedTokens += delta.cachedTokens;
}

/** The file's line for an entry (short field names: a year of hourly entries stays small). */
function lineOf(entry: UsageEntry): string {
  return `${JSON.stringify({ h: entry.hour, k: entry.key, p: entry.provider, m: entry.model, c: entry.credential, r: entry.requests, e: entry.errors, i: entry.inputTokens, o: entry.outputTokens, ca: entry.cachedTokens })}\n`;
}

const nonNegative = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0);

/** Parses one line; undefined for a torn or foreign line (skipped, never fatal). */
function parseLine(line: string): UsageEntry | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  const value = parsed as Record<string, unknown> | null;
  if (value === null || typeof value !== 'object') return undefined;
  const { h, k, p, m, c } = value;
  if (typeof h !== 'string' || typeof k !== 'string' || typeof p !== 'string' || typeof m !== 'string' || typeof c !== 'string') return undefined;
  return { hour: h, key: k, provider: p, model: m, credential: c, requests: nonNegative(value['r']), errors: nonNegative(value['e']), inputTokens: nonNegative(value['i']), outputTokens: nonNegative(value['o']), cachedTokens: nonNegative(value['ca']) };
}

/** Sums a file's lines into entries. A missing file is empty. */
export async function readUsageFile(file: string): Promise<UsageEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const totals = new Map<string, UsageEntry>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const entry = parseLine(line);
    if (entry === undefined) continue;
    const key = entryKey(entry);
    const known = totals.get(key);
    if (known === undefined) totals.set(key, entry);
    else addInto(known, entry);
  }
  return [...totals.values()];
}

export class UsageStore {
  private pending = new Map<string, UsageEntry>();
  /** The batch being appended: still counted by `unflushed` until it is in the file. */
  private appending: Map<string, UsageEntry> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: UsageStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Compacts the file (one line per entry, old entries dropped) and starts the flush timer. */
  async open(): Promise<UsageEntry[]> {
    await ensurePrivateDirectory(dirname(this.options.file));
    const entries = await withFileLock(this.options.file, () => this.compactLocked());
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
    return entries;
  }

  /** Adds one request's usage; no I/O. */
  record(where: Omit<UsageEntry, keyof UsageDelta>, delta: UsageDelta): void {
    const key = entryKey(where);
    let entry = this.pending.get(key);
    if (entry === undefined) {
      entry = { ...where, ...emptyDelta() };
      this.pending.set(key, entry);
    }
    addInto(entry, delta);
  }

  /** Deltas not yet on disk (the management API adds them to what the file says). */
  unflushed(): UsageEntry[] {
    return [...(this.appending?.values() ?? []), ...this.pending.values()].map((entry) => ({ ...entry }));
  }

  /**
   * Everything recorded: the file (every process's flushed lines) plus this process's deltas not
   * yet in it, read under the file's lock so a flush is never counted twice or not at all.
   */
  snapshot(): Promise<UsageEntry[]> {
    return withFileLock(this.options.file, async () => [...(await readUsageFile(this.options.file)), ...this.unflushed()]);
  }

  /** Appends the pending deltas under the file's lock; on failure they stay pending. */
  flush(): Promise<void> {
    if (this.flushing !== undefined) return this.flushing;
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    this.appending = batch;
    this.flushing = withFileLock(this.options.file, async () => {
      await appendFile(this.options.file, [...batch.values()].map(lineOf).join(''), { mode: privateFileMode });
      this.appending = undefined;
      const size = (await stat(this.options.file)).size;
      if (size > (this.options.compactAboveBytes ?? 16 * 1_048_576)) await this.compactLocked();
    })
      .catch((error: unknown) => {
        this.appending = undefined;
        // Kept for the next flush: merged back under what arrived meanwhile.
        for (const [key, entry] of batch) {
          const later = this.pending.get(key);
          if (later !== undefined) addInto(entry, later);
          this.pending.set(key, entry);
        }
        this.options.onError?.(error);
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** Rewrites the file as its aggregates (atomically); called with the lock held. */
  private async compactLocked(): Promise<UsageEntry[]> {
    const oldest = hourOf(this.now() - (this.options.retentionMs ?? 400 * 24 * hourMs));
    const entries = (await readUsageFile(this.options.file)).filter((entry) => entry.hour >= oldest);
    const temporary = join(dirname(this.options.file), `.usage-${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temporary, entries.map(lineOf).join(''), { mode: privateFileMode, flush: true });
    await rename(temporary, this.options.file);
    await fsyncDirectory(dirname(this.options.file));
    return entries;
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }
}
