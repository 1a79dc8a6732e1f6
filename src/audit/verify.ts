import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { algorithmOf, hashFunctionFor, parseRecordLine, splitHashedLine, type ChainPosition } from './audit-record.js';

/**
 * `audit verify`: walks the files of one chain in order and reports the first record that is not
 * where the chain says it should be, naming it and what happened to it:
 *
 * - **edited**: its hash does not match its bytes (with HMAC also: a record inserted without the key);
 * - **dropped**: it links to a record that is not there, and its seq skips ahead;
 * - **inserted**: it does not link to the record before it, but the record after it does;
 * - **reordered**: it links to a record elsewhere in the files (or a later record links to the one before it);
 * - **downgraded / unkeyed**: with a key given, a record hashed without it.
 *
 * A file that starts a chain begins with `audit-file-start`; a first record that is not one means
 * records were cut from the head. A file that continues from one not given is checked from its
 * first record on (noted). A last line without a newline is a write in progress or a crash: noted,
 * not verified. A line cut by a crash and followed by the writer's `audit-torn-record` is accepted.
 */
export interface VerifyResult {
  ok: boolean;
  records: number;
  /** The first problem, naming file, line and seq; undefined when the chain is intact. */
  problem?: string;
  notes: string[];
}

interface Located extends ChainPosition {
  file: string;
  line: number;
  /** The record's own hash matches its bytes. */
  intact: boolean;
}

/** Reads every line of the files, in order; each entry is a record or a line that is not one. */
async function readRecords(files: readonly string[], hash: (content: string) => string): Promise<{ records: (Located | { file: string; line: number; torn: boolean; malformed: true })[]; notes: string[] }> {
  const records: (Located | { file: string; line: number; torn: boolean; malformed: true })[] = [];
  const notes: string[] = [];
  for (const file of files) {
    const lines: string[] = [];
    const reader = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of reader) lines.push(line);
    const endsWithNewline = await lastByteIsNewline(file);
    lines.forEach((line, index) => {
      const lastWithoutNewline = index === lines.length - 1 && !endsWithNewline;
      const position = parseRecordLine(line);
      if (position === undefined) {
        if (lastWithoutNewline) notes.push(`${basename(file)}:${index + 1}: the last line is incomplete (a write in progress, or a crash); it is not verified`);
        else records.push({ file, line: index + 1, torn: false, malformed: true });
        return;
      }
      const split = splitHashedLine(line);
      records.push({ ...position, file, line: index + 1, intact: split !== undefined && hash(split.content) === position.hash });
    });
  }
  return { records, notes };
}

async function lastByteIsNewline(file: string): Promise<boolean> {
  const { open } = await import('node:fs/promises');
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return true;
    const buffer = Buffer.alloc(1);
    await handle.read(buffer, 0, 1, size - 1);
    return buffer[0] === 0x0a;
  } finally {
    await handle.close();
  }
}

function where(record: { file: string; line: number; seq?: number }): string {
  return `${basename(record.file)}:${record.line}${record.seq === undefined ? '' : ` (seq ${record.seq})`}`;
}

/** Verifies the files as one chain, in the order given. `key`: the audit key, when the chain is keyed. */
export async function verifyAuditChain(files: readonly string[], key: Buffer | undefined): Promise<VerifyResult> {
  const hasher = hashFunctionFor(key);
  const { records, notes } = await readRecords(files, hasher.hash);
  const fail = (problem: string, count: number): VerifyResult => ({ ok: false, records: count, problem, notes });
  const byHash = new Map<string, number>();
  records.forEach((record, index) => {
    if (!('malformed' in record) && !byHash.has(record.hash)) byHash.set(record.hash, index);
  });
  let previous: Located | undefined;
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    if (record === undefined) continue;
    if ('malformed' in record) {
      const next = records[index + 1];
      // A line a crash cut short, then the writer's own note of it, linking past it: accepted.
      if (next !== undefined && !('malformed' in next) && next.event_type === 'audit-torn-record' && next.intact && next.prev === (previous?.hash ?? null)) {
        notes.push(`${where(record)}: a record cut short by a crash (noted by the writer at ${where(next)})`);
        continue;
      }
      return fail(`${where(record)}: edited: the line is not a well-formed audit record`, index);
    }
    if (key !== undefined && algorithmOf(record.hash) !== 'hmac-sha256') {
      return fail(`${where(record)}: not keyed: hashed with plain SHA-256 although an audit key is given (written without the key, or the chain was rewritten)`, index);
    }
    if (key === undefined && algorithmOf(record.hash) === 'hmac-sha256') {
      return fail(`${where(record)}: keyed with HMAC-SHA-256: pass the audit key (--key-file, or audit.key_file in the config) to verify it`, index);
    }
    if (!record.intact) {
      return fail(`${where(record)}: edited: its hash does not match its content${key === undefined ? '' : ' (or inserted without the audit key)'}`, index);
    }
    if (previous === undefined) {
      if (record.prev === null && record.seq === 1) {
        previous = record;
        continue;
      }
      if (record.event_type !== 'audit-file-start') return fail(`${where(record)}: dropped: the records before it are missing (the file does not begin with an audit-file-start record)`, index);
      if (record.prev !== null) notes.push(`${where(record)}: continues a chain from a file not given; that link is not checked`);
      previous = record;
      continue;
    }
    const problem = linkProblem(records, index, previous, byHash);
    if (problem !== undefined) return fail(problem, index);
    if (record.file !== previous.file && record.event_type !== 'audit-file-start') {
      return fail(`${where(record)}: dropped: the first record(s) of ${basename(record.file)} are missing`, index);
    }
    previous = record;
  }
  return { ok: true, records: records.length, notes };
}

/** Why `records[index]` does not follow `previous`, or undefined when it does. */
function linkProblem(records: readonly (Located | { malformed: true; file: string; line: number })[], index: number, previous: Located, byHash: ReadonlyMap<string, number>): string | undefined {
  const record = records[index] as Located;
  if (record.prev === previous.hash) {
    if (record.seq === previous.seq + 1) return undefined;
    return `${where(record)}: edited: it links to ${where(previous)} but its seq does not follow (the chain was recomputed)`;
  }
  if (byHash.get(record.hash) !== index) return `${where(record)}: duplicated: the same record already appears earlier`;
  const linkedAt = record.prev === null ? undefined : byHash.get(record.prev);
  if (linkedAt !== undefined && previous.prev === record.prev) {
    // Two records claim the same predecessor and the chain goes on from this one: the one before was slipped in.
    return `${where(previous)}: inserted: it and ${where(record)} both claim to follow ${where(records[linkedAt] as Located)}, and the chain goes on from ${where(record)}`;
  }
  if (linkedAt !== undefined && linkedAt !== index - 1) {
    const linked = records[linkedAt] as Located;
    return `${where(record)}: reordered: it belongs after ${where(linked)}, not after ${where(previous)}`;
  }
  // Does a later record link to the one before this? Then this one (or this run) is out of place.
  for (let later = index + 1; later < records.length; later++) {
    const candidate = records[later];
    if (candidate === undefined || 'malformed' in candidate || candidate.prev !== previous.hash) continue;
    if (later === index + 1) return `${where(record)}: inserted: it is not part of the chain (${where(candidate)} links to ${where(previous)})`;
    return `${where(record)}: reordered: ${where(candidate)} belongs right after ${where(previous)}`;
  }
  if (record.seq > previous.seq + 1) {
    const missing = record.seq - previous.seq - 1;
    return `${where(record)}: dropped: ${missing} record(s) (seq ${previous.seq + 1}${missing > 1 ? `–${record.seq - 1}` : ''}) missing between ${where(previous)} and it`;
  }
  return `${where(record)}: inserted or edited: it does not link to ${where(previous)}`;
}
