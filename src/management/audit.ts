import type { SecurityEventSink } from '../credentials/security-events.js';

/**
 * Every management call is recorded, allowed or refused, through the one security event sink the
 * rest of the gateway writes to (today credentials/security-events.ts; the audit log implements the
 * same interface). One call per request, made by the management scope's response hook, so no
 * handler can forget it. Records carry the key id (`management:<id>`), never a key, a TOTP code or
 * a request body.
 */
export interface ManagementCallRecord {
  /** `management:<key id>`, or `management:-` when no key was accepted. */
  readonly actor: string;
  readonly method: string;
  /** The route pattern (`/v0/management/ip-blocks/:ip`), or the path for an unknown route. */
  readonly route: string;
  readonly status: number;
  readonly ip: string | undefined;
  /** The catalog code of a refusal, when there was one. */
  readonly code: string | undefined;
}

export function recordManagementCall(sink: SecurityEventSink, call: ManagementCallRecord): void {
  sink.record({
    event_type: 'management-call',
    result: call.status < 400 ? 'success' : 'failure',
    actor: call.actor,
    detail: `${call.method} ${call.route} -> ${call.status}${call.code === undefined ? '' : ` ${call.code}`} from ${call.ip ?? 'unknown'}`,
  });
}

/** A refused login (wrong key or TOTP code), with what the lockout made of it. */
export function recordManagementLoginFailure(sink: SecurityEventSink, failure: { ip: string | undefined; reason: 'unknown-key' | 'totp-invalid' | 'totp-replayed' | 'locked-out'; actor?: string }): void {
  sink.record({
    event_type: 'management-login',
    result: 'failure',
    actor: failure.actor ?? 'management:-',
    detail: `${failure.reason} from ${failure.ip ?? 'unknown'}`,
  });
}
