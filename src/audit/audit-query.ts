import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { pathExists } from '../files/secret-path-check.js';
import { rotatedFilesOf } from './audit-files.js';
import { hashFunctionFor } from './audit-record.js';
import { verifyAuditChain } from './verify.js';

/**
 * Reading the audit log back (the management API's `GET /v0/management/audit`): one page of the
 * records of one chain that match a filter, exactly as they are stored (already redacted when
 * they were written; nothing is re-serialised or re-derived), with the chain's verdict from
 * `audit verify`'s own walk (verify.ts), so a reader of the page learns in the same answer whether
 * the file it came from was tampered with.
 *
 * The chain is `audit.file`'s rotated files, oldest first, then the live file (the order `audit
 * verify` uses with no argument). Records come in chain order (seq ascending); a page ends after
 * `limit` matches, and `nextAfterSeq` says where the next page starts. A rotated file's name
 * carries its last seq (audit-files.ts rotatedFileName), so files wholly before `afterSeq` are not
 * opened. A line that is not a record (a write in progress, a cut or edited line) is skipped here
 * and reported by the chain verdict.
 */
export interface AuditQueryFilter {
  /** Records with `timestamp` at or after this (ISO 8601, UTC, as the writer formats it). */
  since?: string | undefined;
  /** Records with `timestamp` before this. */
  until?: string | undefined;
  /** Any of these event types. */
  eventTypes?: readonly string[] | undefined;
  requestId?: string | undefined;
  userId?: string | undefined;
  ip?: string | undefined;
  result?: 'success' | 'failure' | undefined;
  /** Records with `seq` above this (the previous page's `nextAfterSeq`). */
  afterSeq?: number | undefined;
}

export interface AuditChainStatus {
  intact: boolean;
  /** Records verified (up to the first problem). */
  records: number;
  algorithm: 'sha256' | 'hmac-sha256';
  /** The chain's files, oldest first, by name. */
  files: string[];
  /** The first edited, dropped, inserted or reordered record, as `audit verify` names it. */
  problem?: string;
  notes: string[];
}

export interface AuditPage {
  records: Record<string, unknown>[];
  /** Where the next page starts (`after_seq`), or null when this page holds the last match. */
  nextAfterSeq: number | null;
  chain: AuditChainStatus;
}

/** The files of the chain whose live file is `file`, oldest first; empty when there is none yet. */
export async function auditChainFiles(file: string): Promise<string[]> {
  const rotated = await rotatedFilesOf(file);
  return (await pathExists(file)) ? [...rotated, file] : rotated;
}

const rotatedSeqPattern = /\.(\d{12})\.[^.]*$|\.(\d{12})$/;

/** The last seq a rotated file's name records, or undefined for the live file. */
function lastSeqOfName(path: string, liveFile: string): number | undefined {
  if (path === liveFile) return undefined;
  const match = rotatedSeqPattern.exec(basename(path));
  const digits = match?.[1] ?? match?.[2];
  return digits === undefined ? undefined : Number(digits);
}

function matches(record: Record<string, unknown>, filter: AuditQueryFilter, eventTypes: ReadonlySet<string> | undefined): boolean {
  const seq = record['seq'];
  if (typeof seq !== 'number') return false;
  if (filter.afterSeq !== undefined && seq <= filter.afterSeq) return false;
  const timestamp = record['timestamp'];
  if (filter.since !== undefined && (typeof timestamp !== 'string' || timestamp < filter.since)) return false;
  if (filter.until !== undefined && (typeof timestamp !== 'string' || timestamp >= filter.until)) return false;
  if (eventTypes !== undefined && !eventTypes.has(record['event_type'] as string)) return false;
  if (filter.requestId !== undefined && record['request_id'] !== filter.requestId) return false;
  if (filter.userId !== undefined && record['user_id'] !== filter.userId) return false;
  if (filter.ip !== undefined && record['ip'] !== filter.ip) return false;
  if (filter.result !== undefined && record['result'] !== filter.result) return false;
  return true;
}

function parseStoredLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Collects up to `limit` matches, and tells whether one more exists (then the page is not the last). */
async function collectMatches(files: readonly string[], liveFile: string, filter: AuditQueryFilter, limit: number): Promise<{ records: Record<string, unknown>[]; more: boolean }> {
  const eventTypes = filter.eventTypes === undefined || filter.eventTypes.length === 0 ? undefined : new Set(filter.eventTypes);
  const records: Record<string, unknown>[] = [];
  for (const file of files) {
    const lastSeq = lastSeqOfName(file, liveFile);
    if (filter.afterSeq !== undefined && lastSeq !== undefined && lastSeq <= filter.afterSeq) continue;
    const stream = createReadStream(file, { encoding: 'utf8' });
    const reader = createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (const line of reader) {
        if (line === '') continue;
        const record = parseStoredLine(line);
        if (record === undefined || !matches(record, filter, eventTypes)) continue;
        if (records.length === limit) return { records, more: true };
        records.push(record);
      }
    } finally {
      reader.close();
      stream.destroy();
    }
  }
  return { records, more: false };
}

/** Reads of one page while the writer keeps rotating under it, before the last one is returned as it is. */
const maximumReadAttempts = 5;
/** Between two attempts: a rotation renames the live file, fsyncs the directory, then creates the new one. */
const retryDelayMs = 25;

const sleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

/**
 * One page of the chain of `file` (`audit.file`) under `key` (the audit key when the chain is
 * keyed). Reads every file of the chain for the verdict; the records of the page are read after it,
 * so a record appended meanwhile may be on the page but not yet in the verdict's count. A rotation
 * during the read renames the live file the read was about to open (its records would be skipped
 * and the new live file would look like a gap, or not exist yet): the file list is compared before
 * and after, and the read done again when it changed or a file vanished.
 */
export async function queryAuditChain(file: string, key: Buffer | undefined, filter: AuditQueryFilter, limit: number): Promise<AuditPage> {
  const algorithm = hashFunctionFor(key).algorithm;
  let page: AuditPage | undefined;
  for (let attempt = 1; attempt <= maximumReadAttempts; attempt++) {
    const files = await auditChainFiles(file);
    const names = files.map((path) => basename(path));
    if (files.length === 0) return { records: [], nextAfterSeq: null, chain: { intact: true, records: 0, algorithm, files: names, notes: ['no audit file has been written yet'] } };
    let verdict: Awaited<ReturnType<typeof verifyAuditChain>>;
    let matched: Awaited<ReturnType<typeof collectMatches>>;
    try {
      verdict = await verifyAuditChain(files, key);
      matched = await collectMatches(files, file, filter, limit);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === maximumReadAttempts) throw error;
      await sleep(retryDelayMs * attempt);
      continue;
    }
    const { records, more } = matched;
    const last = records.at(-1)?.['seq'];
    const notes = [...verdict.notes];
    page = {
      records,
      nextAfterSeq: more && typeof last === 'number' ? last : null,
      chain: { intact: verdict.ok, records: verdict.records, algorithm, files: names, ...(verdict.problem === undefined ? {} : { problem: verdict.problem }), notes },
    };
    const after = (await auditChainFiles(file)).map((path) => basename(path));
    if (after.join('\n') === names.join('\n')) return page;
    if (attempt === maximumReadAttempts) notes.push('the log rotated while it was read, on every attempt: the verdict may name the rotation as a gap; read again');
    else await sleep(retryDelayMs * attempt);
  }
  return page as AuditPage;
}
