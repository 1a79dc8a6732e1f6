import type { ReadonlyConfig } from '../config/schema.js';
import { serializeEventFields, type AuditEvent } from './audit-record.js';
import { loadAuditKey } from './audit-key.js';
import { AuditFileWriter } from './audit-writer.js';

/**
 * The audit log: what every part of the gateway records security events into. It has the shape of
 * `SecurityEventSink` (credentials/security-events.ts), so the credential store, rotation, the
 * OAuth refresh, the CLI and the management API all take it where they took the stderr sink.
 *
 *   audit.record({ event_type: 'ip-block', result: 'success', ip: '203.0.113.9', actor: 'alert:High auth failure rate', detail: { ttl_seconds: 600 } });
 *
 * `record` is synchronous and cheap: the event's strings go through the redactor and are
 * serialised, then queued; numbering, hashing and writing happen in the writer's batched flush
 * (audit-writer.ts). `close()` flushes and must be awaited before a process exits.
 */
export interface AuditLog {
  record(event: AuditEvent): void;
  /**
   * Queues fields already serialised (and redacted) in the order of `serializeEventFields`: the
   * per-request record's fast path (request-audit.ts). Ignored when the log is off.
   */
  recordSerialized(fields: string): void;
  /** Writes what is queued now. */
  flush(): Promise<void>;
  /** Flushes and waits: at shutdown, and at the end of every CLI command that recorded something. */
  close(): Promise<void>;
  /** The live file, or undefined when the log is off. */
  readonly file: string | undefined;
}

export interface OpenAuditLogOptions {
  /** `serve` creates a missing audit key file; the CLI does too (it may run before the first serve). */
  createKey?: boolean;
  /** Failed flushes (records stay queued and are retried). */
  onError: (error: Error) => void;
  /** Where `audit.stdout` copies go (process stdout by default). */
  stdout?: (text: string) => void;
  /** Used when `audit.enabled` is false: events still go somewhere (the stderr sink). */
  fallback: { record(event: AuditEvent): void };
  /** Another live file than `audit.file` (tests); every process of a deployment writes `audit.file`. */
  file?: string;
  now?: () => number;
}

/**
 * Opens the audit log of a config: checks the directory (0700, no symlink), the live file (0600,
 * regular, ours) and the key file before anything else runs, so an unsafe audit file stops the
 * start (fail closed) instead of being written into. With `audit.enabled: false` events go to the
 * fallback.
 */
export async function openAuditLog(config: ReadonlyConfig, options: OpenAuditLogOptions): Promise<AuditLog> {
  const audit = config.audit;
  if (!audit.enabled) {
    return { record: (event) => options.fallback.record(event), recordSerialized: () => undefined, flush: () => Promise.resolve(), close: () => Promise.resolve(), file: undefined };
  }
  const key = audit.key_file === undefined ? undefined : await loadAuditKey(audit.key_file, { create: options.createKey === true });
  const file = options.file ?? audit.file;
  const stdout = options.stdout ?? ((text: string) => void process.stdout.write(text));
  const writer = new AuditFileWriter({
    file,
    key,
    maxFileBytes: audit.max_file_bytes,
    flushIntervalMs: audit.flush_interval_ms,
    onError: options.onError,
    ...(audit.stdout ? { copy: stdout } : {}),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  await writer.check();
  const now = options.now ?? Date.now;
  return {
    file,
    record(event) {
      writer.enqueue(serializeEventFields(event, now()));
    },
    recordSerialized(fields) {
      writer.enqueue(fields);
    },
    flush: () => writer.flush(),
    close: () => writer.close(),
  };
}
