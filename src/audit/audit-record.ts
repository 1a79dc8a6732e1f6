import { createHash, createHmac, hash as oneShotHash } from 'node:crypto';
import { redactText } from '../security/redact.js';

/**
 * One audit record: its fields, how an event becomes the record's line, and how the line's hash
 * chains to the previous record's. The file is JSON Lines, one record per line, fields in a fixed
 * order so a line is stable byte for byte:
 *
 *   {"seq":12,"timestamp":"2026-12-03T12:00:00.000Z","event_type":"auth-failure","result":"failure",
 *    "user_id":null,"ip":"203.0.113.9","provider":null,"request_id":"…","actor":null,
 *    "credential_ids":null,"detail":{"reason":"unknown key"},"prev":"sha256:…","hash":"sha256:…"}
 *
 * `hash` is computed over the line's bytes up to (not including) `,"hash":…` with `}` appended,
 * that is over the record with every field but `hash`, `prev` included. So editing any byte of a
 * record breaks its own hash, and removing, inserting or moving a record breaks the `prev` link of
 * the record after it. `prev` of the first record of a chain is null.
 *
 * Two algorithms, named in the value so a verifier cannot be fooled about which one applies:
 * - `sha256:<hex>` (no audit key): catches corruption and any edit made without recomputing the
 *   chain; someone who can write the file can recompute every hash after an edit.
 * - `hmac-sha256:<hex>` (audit.key_file set): recomputing needs the key, so whoever can write the
 *   log but cannot read the key (another uid, a copy shipped elsewhere, a restored backup) cannot
 *   forge, insert or re-chain a record undetected.
 * Neither shows records cut from the end of the newest file, or a whole file deleted: anchor the
 * chain elsewhere (`audit.stdout` to a collector) for that (docs/incident-response.md).
 */

/** What a caller reports; the writer adds seq, prev and hash. Every string passes the redactor. */
export interface AuditEvent {
  /** noun-verb: `credential-delete`, `auth-failure`, `provider-request`, `ip-block`. */
  event_type: string;
  result: 'success' | 'failure';
  /** The client (or management) key's id, never the key. */
  user_id?: string | undefined;
  /** The client's address as the gateway resolved it (trusted proxies applied). */
  ip?: string | undefined;
  provider?: string | undefined;
  request_id?: string | undefined;
  /** Who acted: `cli`, `serve`, `management:<key id>`, `alert:<rule>`. */
  actor?: string | undefined;
  credential_ids?: readonly string[] | undefined;
  /** A sentence, or flat fields (numbers, short strings). Bounded: see maximumDetailCharacters. */
  detail?: AuditDetail | undefined;
  /** When it happened, epoch milliseconds; default: when it was recorded. */
  time?: number | undefined;
}

export type AuditDetail = string | Readonly<Record<string, string | number | boolean | null | undefined>>;

/** A detail string longer than this is cut (a record must fit the writer's tail read, 64 KiB). */
export const maximumDetailCharacters = 4096;
/** An identifier-like field (ids, model names, providers) longer than this is cut. */
const maximumFieldCharacters = 256;
/** At most this many credential ids per record. */
const maximumCredentialIds = 64;

export type HashAlgorithm = 'sha256' | 'hmac-sha256';

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…(cut)`;
}

function redactField(value: string | undefined): string | null {
  return value === undefined ? null : redactText(clip(value, maximumFieldCharacters));
}

function redactDetail(detail: AuditDetail | undefined): AuditDetail | null {
  if (detail === undefined) return null;
  if (typeof detail === 'string') return redactText(clip(detail, maximumDetailCharacters));
  const redacted: Record<string, string | number | boolean | null> = {};
  for (const [name, value] of Object.entries(detail)) {
    if (value === undefined) continue;
    redacted[name] = typeof value === 'string' ? redactText(clip(value, maximumFieldCharacters)) : value;
  }
  return redacted;
}

/**
 * The middle of a record's line (every field but seq, prev and hash), redacted and serialised once
 * when the event is recorded: `"timestamp":…,"detail":…`. The writer wraps it at flush time, when
 * the chain position is known (several processes append to one chain).
 */
export function serializeEventFields(event: AuditEvent, now: number): string {
  const fields = {
    timestamp: new Date(event.time ?? now).toISOString(),
    event_type: clip(event.event_type, maximumFieldCharacters),
    result: event.result,
    user_id: redactField(event.user_id),
    ip: redactField(event.ip),
    provider: redactField(event.provider),
    request_id: redactField(event.request_id),
    actor: redactField(event.actor),
    credential_ids: event.credential_ids === undefined ? null : event.credential_ids.slice(0, maximumCredentialIds).map((id) => redactText(clip(id, maximumFieldCharacters))),
    detail: redactDetail(event.detail),
  };
  const json = JSON.stringify(fields);
  return json.slice(1, -1);
}

/** A chain's hash function, over a string or over bytes (the writer hashes the line it encoded). */
export interface ChainHash {
  algorithm: HashAlgorithm;
  hash: (content: string) => string;
  hashBytes: (content: Uint8Array) => string;
}

/** The hash function of a chain: HMAC-SHA-256 under `key`, or SHA-256 without one. */
export function hashFunctionFor(key: Buffer | undefined): ChainHash {
  if (key === undefined) {
    return {
      algorithm: 'sha256',
      hash: (content) => `sha256:${createHash('sha256').update(content).digest('hex')}`,
      // crypto.hash: one call, no Hash object per record (the flush hashes every record it writes).
      hashBytes: (content) => `sha256:${oneShotHash('sha256', content, 'hex')}`,
    };
  }
  return {
    algorithm: 'hmac-sha256',
    hash: (content) => `hmac-sha256:${createHmac('sha256', key).update(content).digest('hex')}`,
    hashBytes: (content) => `hmac-sha256:${createHmac('sha256', key).update(content).digest('hex')}`,
  };
}

/** Builds one chained line (without the newline) and returns it with its hash. */
export function chainLine(seq: number, fields: string, prev: string | null, hash: (content: string) => string): { line: string; hash: string } {
  const content = `{"seq":${seq},${fields},"prev":${prev === null ? 'null' : JSON.stringify(prev)}}`;
  const digest = hash(content);
  return { line: `${content.slice(0, -1)},"hash":"${digest}"}`, hash: digest };
}

/** The most bytes a line adds around its fields: `{"seq":…,` and `,"prev":"…","hash":"…"}` and the newline. */
export const chainedLineOverheadBytes = 256;

/**
 * chainLine over bytes: writes the line for the fields in `fields[start, end)` into `out` at
 * `offset`, newline included, and returns where it ended and its hash. The same bytes as
 * `chainLine(...).line + '\n'` (the fields are already JSON; the rest is ASCII), with no string per
 * record. `out` must have `end - start + chainedLineOverheadBytes` bytes free at `offset`.
 */
export function writeChainedLine(
  out: Buffer,
  offset: number,
  seq: number,
  fields: { bytes: Buffer; start: number; end: number },
  prev: string | null,
  chain: ChainHash,
): { offset: number; hash: string } {
  const lineStart = offset;
  let at = offset + out.write(`{"seq":${seq},`, offset, 'latin1');
  at += fields.bytes.copy(out, at, fields.start, fields.end);
  at += out.write(`,"prev":${prev === null ? 'null' : JSON.stringify(prev)}}`, at, 'latin1');
  const digest = chain.hashBytes(out.subarray(lineStart, at));
  // Over the closing brace: the hash goes last, as chainLine puts it.
  at += out.write(`,"hash":"${digest}"}\n`, at - 1, 'latin1') - 1;
  return { offset: at, hash: digest };
}

const hashMarker = ',"hash":"';

/** A line split into what was hashed and the hash it carries, or undefined when it is not shaped like a record. */
export function splitHashedLine(line: string): { content: string; hash: string } | undefined {
  const at = line.lastIndexOf(hashMarker);
  if (at < 0 || !line.endsWith('"}')) return undefined;
  const hash = line.slice(at + hashMarker.length, -2);
  if (!/^(sha256|hmac-sha256):[0-9a-f]{64}$/.test(hash)) return undefined;
  return { content: `${line.slice(0, at)}}`, hash };
}

/** The chain fields of a parsed record, or undefined when the line is not a record. */
export interface ChainPosition {
  seq: number;
  prev: string | null;
  hash: string;
  event_type: string;
  detail: unknown;
}

/** Parses a line's chain fields; undefined for anything that is not a well-formed record. */
export function parseRecordLine(line: string): ChainPosition | undefined {
  const split = splitHashedLine(line);
  if (split === undefined) return undefined;
  let content: unknown;
  try {
    content = JSON.parse(split.content);
  } catch {
    return undefined;
  }
  if (typeof content !== 'object' || content === null || Array.isArray(content)) return undefined;
  const record = content as Record<string, unknown>;
  // A second "hash" field inside the hashed part would let a line show one hash and carry another.
  if (Object.hasOwn(record, 'hash')) return undefined;
  const { seq, prev, event_type: eventType } = record;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  if (prev !== null && typeof prev !== 'string') return undefined;
  if (typeof eventType !== 'string') return undefined;
  return { seq, prev, hash: split.hash, event_type: eventType, detail: record['detail'] };
}

/** The algorithm a stored hash names. */
export function algorithmOf(hash: string): HashAlgorithm {
  return hash.startsWith('hmac-') ? 'hmac-sha256' : 'sha256';
}
