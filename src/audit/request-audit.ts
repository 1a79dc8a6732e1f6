import { redactText, registeredSecretsGeneration } from '../security/redact.js';
import type { AuditLog } from './audit-log.js';

/**
 * The request path's records: authentication outcomes (the authenticate hook) and one record per
 * authenticated client request (a subscriber of the per-request record's `end`). The shapes below
 * are the parts of the server's types these read, written out here so that `audit/` imports
 * nothing of `server/` (nothing does: it is the top of the graph); TypeScript checks main.ts's
 * wiring against the real types.
 */

/** What the audit reads of the per-request record (server/exchange.ts `Exchange`). */
export interface AuditedExchange {
  readonly requestId: string;
  /** Sent by the client (redacted and escaped here), else a UUID the gateway generated. */
  readonly requestIdFromClient: boolean;
  readonly clientIp: string | undefined;
  readonly principal: { readonly id: string; readonly source: string } | undefined;
  readonly requestedModel: string | undefined;
  readonly route: { readonly provider: string; readonly upstreamModel: string | undefined } | undefined;
  readonly attempts: readonly { readonly credentialId: string }[];
  readonly firstByteMs: number | undefined;
  readonly usage: { readonly inputTokens: number | undefined; readonly outputTokens: number | undefined; readonly cachedTokens: number | undefined } | undefined;
  readonly outcome: { readonly status: number; readonly errorCode: string | undefined; readonly clientAborted: boolean } | undefined;
  readonly endedAt: number | undefined;
  readonly durationMs: number | undefined;
}

/**
 * One record per client request that passed the client key (`provider-request` when it was routed
 * to a provider, else `client-request`: a model list, a refused body). Refusals before the key
 * (IP filter, per-IP limit) are the metrics' and alerts' to count, and an unknown key is an
 * `auth-failure`; management calls are recorded by the management API itself.
 *
 * Cost on the request path: one string built by concatenation (no intermediate object, no generic
 * serialiser; repeating values redacted once, see redactedJson), one array push. Numbering,
 * hashing and the write happen in the writer's batched flush, off the response.
 */
export function createRequestAuditObserver(audit: Pick<AuditLog, 'recordSerialized'>): { name: string; end(exchange: AuditedExchange): void } {
  return {
    name: 'audit',
    end(exchange) {
      const principal = exchange.principal;
      if (principal === undefined || principal.source !== 'client-key') return;
      audit.recordSerialized(requestFields(exchange, principal.id));
    },
  };
}

/** Redacted JSON strings of values that repeat across requests (ids, providers, models), bounded. */
const memoLimit = 1_024;
let memo = new Map<string, string>();
let memoGeneration = -1;

/**
 * `value` redacted and JSON-escaped. Key ids, provider names, credential ids and model names come
 * from a small set, so each is redacted once and reused; the memo is emptied when the registered
 * secrets change (a value redacted before a secret was registered is redacted again) and stops
 * growing at its bound (a client spraying model names gets the slow path, not more memory).
 */
function redactedJson(value: string): string {
  const generation = registeredSecretsGeneration();
  if (generation !== memoGeneration) {
    memo = new Map();
    memoGeneration = generation;
  }
  let json = memo.get(value);
  if (json === undefined) {
    json = JSON.stringify(redactText(value));
    if (memo.size < memoLimit) memo.set(value, json);
  }
  return json;
}

function text(value: string | undefined): string {
  return value === undefined ? 'null' : redactedJson(value);
}

function count(value: number | undefined): string {
  return value === undefined ? 'null' : String(value);
}

let timestampSecond = -1;
let timestampPrefix = '';

/** ISO 8601 of `time` (epoch ms); the part down to the second is formatted once per second. */
function isoTimestamp(time: number): string {
  const second = Math.floor(time / 1000);
  if (second !== timestampSecond) {
    timestampSecond = second;
    timestampPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  return `${timestampPrefix}.${String(time - second * 1000).padStart(3, '0')}Z`;
}

function credentialIdsJson(attempts: AuditedExchange['attempts']): string {
  if (attempts.length === 0) return 'null';
  if (attempts.length === 1) return `[${redactedJson(attempts[0]?.credentialId ?? '')}]`;
  return `[${[...new Set(attempts.map((attempt) => attempt.credentialId))].map(redactedJson).join(',')}]`;
}

/**
 * The record's fields in the writer's order (audit-record.ts serializeEventFields). Every string
 * passes the redactor: the repeating ones through the memo, a client-sent request id each time
 * (one the gateway generated is a UUID); numbers and the literals are ours.
 */
export function requestFields(exchange: AuditedExchange, userId: string): string {
  const outcome = exchange.outcome;
  const route = exchange.route;
  const failed = outcome === undefined || outcome.status >= 400 || outcome.errorCode !== undefined || outcome.clientAborted;
  const usage = exchange.usage;
  const requestId = exchange.requestIdFromClient ? JSON.stringify(redactText(exchange.requestId)) : `"${exchange.requestId}"`;
  return (
    `"timestamp":"${isoTimestamp(exchange.endedAt ?? Date.now())}","event_type":"${route === undefined ? 'client-request' : 'provider-request'}"` +
    `,"result":"${failed ? 'failure' : 'success'}","user_id":${redactedJson(userId)},"ip":${text(exchange.clientIp)},"provider":${text(route?.provider)}` +
    `,"request_id":${requestId},"actor":null,"credential_ids":${credentialIdsJson(exchange.attempts)}` +
    `,"detail":{"model":${text(exchange.requestedModel)},"upstream_model":${text(route?.upstreamModel)},"status":${count(outcome?.status)}` +
    `,"error_code":${text(outcome?.errorCode)},"input_tokens":${count(usage?.inputTokens)},"output_tokens":${count(usage?.outputTokens)}` +
    `,"cached_tokens":${count(usage?.cachedTokens)},"latency_ms":${count(exchange.durationMs)},"first_byte_ms":${count(exchange.firstByteMs)}` +
    `,"attempts":${exchange.attempts.length},"aborted":${outcome?.clientAborted === true}}`
  );
}

/** Why a key was refused. */
export type AuthenticationRefusal = 'missing key' | 'unknown key' | 'missing client certificate' | 'unverified client certificate' | 'expired key' | 'disabled key';

/** What the authenticate hook reports (server/hooks/authenticate.ts `AuthenticationEvents`). */
export interface AuthenticationAudit {
  accepted(principal: { readonly id: string; readonly source: string }, ip: string | undefined, requestId: string): void;
  refused(reason: AuthenticationRefusal, scope: 'client' | 'management', ip: string | undefined, requestId: string): void;
}

export interface AuthenticationAuditOptions {
  /** A key seen from one address is recorded again after this long (milliseconds, default 10 min). */
  successWindowMs?: number;
  /** Key-and-address pairs remembered (default 10,000); the oldest are forgotten first. */
  maxRemembered?: number;
  now?: () => number;
}

/**
 * `auth-failure` for every refused key, with the reason; `auth-success` the first time a key is
 * used from an address, and again after `successWindowMs`. Every request of a key is already in
 * its `provider-request` record; a success record per request would double the log and say
 * nothing new, while "key alice is now used from 198.51.100.7" is what an investigation looks for.
 * The memory is bounded (an address spray cannot grow it).
 */
export function createAuthenticationAudit(audit: Pick<AuditLog, 'record'>, options: AuthenticationAuditOptions = {}): AuthenticationAudit {
  const windowMs = options.successWindowMs ?? 10 * 60_000;
  const maxRemembered = options.maxRemembered ?? 10_000;
  const now = options.now ?? Date.now;
  const lastRecorded = new Map<string, number>();
  // The pair of the previous call: a keep-alive client repeats it on every request, and comparing
  // two references and a short string is cheaper than building the map key (~0.8 µs in the profile).
  let lastPrincipal: object | undefined;
  let lastIp: string | undefined;
  let lastAt = 0;
  return {
    accepted(principal, ip, requestId) {
      const at = now();
      if (principal === lastPrincipal && ip === lastIp && at - lastAt < windowMs) return;
      const pair = `${principal.source}\n${principal.id}\n${ip ?? ''}`;
      const previous = lastRecorded.get(pair);
      if (previous !== undefined && at - previous < windowMs) {
        lastPrincipal = principal;
        lastIp = ip;
        lastAt = previous;
        return;
      }
      lastPrincipal = principal;
      lastIp = ip;
      lastAt = at;
      lastRecorded.delete(pair);
      lastRecorded.set(pair, at);
      if (lastRecorded.size > maxRemembered) {
        const oldest = lastRecorded.keys().next().value;
        if (oldest !== undefined) lastRecorded.delete(oldest);
      }
      audit.record({
        event_type: 'auth-success',
        result: 'success',
        user_id: principal.id,
        ip,
        request_id: requestId,
        detail: { scope: principal.source === 'management-key' ? 'management' : 'client' },
      });
    },
    refused(reason, scope, ip, requestId) {
      audit.record({ event_type: 'auth-failure', result: 'failure', ip, request_id: requestId, detail: { scope, reason } });
    },
  };
}
