import { redactText } from '../security/redact.js';

/**
 * Security-relevant operations (credential export, delete, import, rotation, permission repairs,
 * unreadable files; OAuth refreshes; later management calls) go through this small interface. The
 * audit log (src/audit/audit-log.ts) implements it and is what `serve` and the CLI pass in; the
 * stderr sink below is the fallback when `audit.enabled` is false, and what tests use.
 *
 * Events carry ids, providers, counts and file paths, never secrets; the line is still passed through
 * the one redactor, so a token that slips into `detail` is masked before it leaves the process.
 */
export interface SecurityEvent {
  /** noun-verb, e.g. `credential-export`, `credential-delete`, `encryption-key-rotate`. */
  event_type: string;
  result: 'success' | 'failure';
  /** Who asked: `cli`, `management:<key id>`, `startup`. */
  actor?: string;
  credential_ids?: string[];
  detail?: string;
  /** The provider name a credential or a request belongs to. */
  provider?: string;
}

export interface SecurityEventSink {
  record(event: SecurityEvent): void;
}

/** Default sink: `{"level":30,"time":…,"msg":"security event",…}` on stderr (warn level for failures). */
export function createStderrSecurityEvents(write: (line: string) => void = (line) => void process.stderr.write(line)): SecurityEventSink {
  return {
    record(event) {
      const line = JSON.stringify({ level: event.result === 'failure' ? 40 : 30, time: Date.now(), msg: 'security event', ...event });
      write(`${redactText(line)}\n`);
    },
  };
}

/** Collects events in memory (tests, and callers that forward them elsewhere). */
export function createMemorySecurityEvents(): SecurityEventSink & { events: SecurityEvent[] } {
  const events: SecurityEvent[] = [];
  return { events, record: (event) => void events.push({ ...event, ...(event.detail === undefined ? {} : { detail: redactText(event.detail) }) }) };
}
