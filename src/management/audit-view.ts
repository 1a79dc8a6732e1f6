import { AuditFileError } from '../audit/audit-files.js';
import { loadAuditKey } from '../audit/audit-key.js';
import { queryAuditChain, type AuditPage } from '../audit/audit-query.js';
import type { ReadonlyConfig } from '../config/schema.js';
import { ManagementRefusal } from './refusal.js';

/**
 * `GET /v0/management/audit`: the query string as the route's schema let it through (strings of
 * bounded shape), turned into a filter over the audit chain. What the schema cannot say is checked
 * here, each with a 400 naming the parameter: a `since`/`until` that is not an ISO 8601 date-time,
 * `since` not before `until`, a page size out of range.
 */
export interface AuditQueryParameters {
  since?: string;
  until?: string;
  /** One event type, or several separated by commas (`auth-failure,management-login`). */
  event_type?: string;
  request_id?: string;
  user_id?: string;
  ip?: string;
  result?: 'success' | 'failure';
  after_seq?: string;
  limit?: string;
}

/** Records per page unless `limit` says otherwise. */
export const defaultAuditPageSize = 100;
/** The largest page: an answer stays a few MiB at most (a record is bounded by its 4 KiB detail). */
export const maximumAuditPageSize = 1000;

/** What an ISO 8601 date-time looks like here: a date, a time, and a zone (Z or ±hh:mm). */
const dateTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function invalid(parameter: string, problem: string): ManagementRefusal {
  return new ManagementRefusal('GW_INVALID_REQUEST', `Invalid request: ${parameter}: ${problem}.`);
}

/** The writer's timestamp format (`toISOString`), so a string comparison orders records by time. */
function instant(parameter: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const time = dateTimePattern.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw invalid(parameter, 'expected an ISO 8601 date-time with a zone, such as 2026-12-03T15:00:00Z');
  return new Date(time).toISOString();
}

function wholeNumber(parameter: string, value: string | undefined, minimum: number, maximum: number): number | undefined {
  if (value === undefined) return undefined;
  const number = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < minimum || number > maximum) throw invalid(parameter, `expected a whole number from ${minimum} to ${maximum}`);
  return number;
}

/**
 * Reads one page. 409 `GW_MANAGEMENT_CONFLICT` while `audit.enabled` is false (there is no chain
 * this gateway writes) or when the audit key cannot be read (the chain could not be judged).
 */
export async function readAuditPage(config: ReadonlyConfig, parameters: AuditQueryParameters): Promise<AuditPage> {
  const since = instant('since', parameters.since);
  const until = instant('until', parameters.until);
  if (since !== undefined && until !== undefined && since >= until) throw invalid('until', 'must be later than since');
  const limit = wholeNumber('limit', parameters.limit, 1, maximumAuditPageSize) ?? defaultAuditPageSize;
  const afterSeq = wholeNumber('after_seq', parameters.after_seq, 0, Number.MAX_SAFE_INTEGER);
  const eventTypes = parameters.event_type?.split(',');
  if (!config.audit.enabled) throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', 'the audit log is off (audit.enabled: false); events go to the server log instead');
  let key: Buffer | undefined;
  try {
    key = config.audit.key_file === undefined ? undefined : await loadAuditKey(config.audit.key_file, { create: false });
  } catch (error) {
    if (error instanceof AuditFileError) throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', `the audit key cannot be read, so the chain cannot be verified: ${error.message}`);
    throw error;
  }
  try {
    return await queryAuditChain(config.audit.file, key, { since, until, eventTypes, requestId: parameters.request_id, userId: parameters.user_id, ip: parameters.ip, result: parameters.result, afterSeq }, limit);
  } finally {
    key?.fill(0);
  }
}
