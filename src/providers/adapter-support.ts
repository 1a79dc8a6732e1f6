import { GatewayError } from '../errors/gateway-error.js';

/**
 * Helpers both adapters share: URL joining, header reading and the status → gateway error table.
 * Kept in one place so "which upstream status is retryable" is decided once (STYLE rule 5), while
 * each provider's `errors.ts` only knows how its own error body is shaped. Pure: no I/O.
 */

type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/** Upstream messages are capped so a chatty (or hostile) upstream cannot bloat our error bodies/logs. */
export const maxUpstreamMessageChars = 500;
/** A non-JSON body (an HTML error page from a load balancer) is cut to its first 200 characters. */
export const maxNonJsonExcerptChars = 200;
/** Bodies larger than this are not JSON-parsed at all; the mapping works from the status alone. */
const maxParsedBodyChars = 64 * 1024;

/**
 * Appends `path` to the base URL's path, whether or not the base ends with '/', keeping the base's
 * query string (some OpenAI-compatible hosts carry `?api-version=` there) and dropping any fragment.
 * `new URL(path, base)` is not used on purpose: it would drop the base's last path segment (`/v1`).
 */
export function joinUrl(baseUrl: URL, path: string): string {
  // Per request this is called with one of a handful of (base, path) pairs; parsing a URL costs
  // ~2% of a pass-through request, so the joined string is remembered per base URL object (a
  // provider's, parsed once per config load) and path (a literal of the adapter: a few per base).
  let joined = joinedUrls.get(baseUrl);
  if (joined === undefined) {
    joined = new Map();
    joinedUrls.set(baseUrl, joined);
  }
  const cached = joined.get(path);
  if (cached !== undefined) return cached;
  const url = new URL(baseUrl.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  url.hash = '';
  // Bounded even for a caller that builds paths from input (Gemini's carry the model name).
  if (joined.size >= maxJoinedPathsPerBase) joined.clear();
  joined.set(path, url.href);
  return url.href;
}

/** Upper bound of remembered paths per base URL: far above any config's operations × models. */
const maxJoinedPathsPerBase = 1024;
/** Weak: a base URL of a replaced config is dropped with it (a URL is mutable, but ours are never changed after parsing). */
const joinedUrls = new WeakMap<URL, Map<string, string>>();

/** Every value of a header, looked up case-insensitively (Node lower-cases, test code may not). */
export function headerValues(headers: HeaderBag, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    if (Array.isArray(value)) values.push(...value);
    else values.push(value);
  }
  return values;
}

export function firstHeader(headers: HeaderBag, name: string): string | undefined {
  return headerValues(headers, name)[0];
}

/**
 * Rejects a header value containing CR, LF or other control characters. A credential read from a
 * file or env var with a stray newline must fail here, before it reaches the wire, and the error
 * must not echo the value (it is a secret).
 */
export function assertHeaderValue(value: string, what: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (value.length === 0 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new GatewayError('GW_INTERNAL', { message: `The ${what} is empty or contains control characters.` });
  }
  return value;
}

/**
 * Gateway-decided extra headers first, then the adapter's own on top, so an extra header can never
 * replace the credential, content-type or API version the adapter computed.
 */
export function mergeHeaders(extraHeaders: Readonly<Record<string, string>> | undefined, own: Record<string, string>): Record<string, string> {
  if (extraHeaders === undefined) return own; // the common case: the adapter's own object, no copy
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries(extraHeaders)) merged[name.toLowerCase()] = assertHeaderValue(value, `extra header ${name}`);
  for (const [name, value] of Object.entries(own)) merged[name] = value;
  return merged;
}

/** A weekday or month name and an hh:mm:ss time: the shape of all three HTTP date formats. */
const httpDateShape = /[A-Za-z]{3}.*\d{1,2}:\d{2}:\d{2}/;

/** 1 day, in seconds: a larger Retry-After is treated as a day (the pool caps cooldowns lower still). */
const maxRetryAfterSeconds = 86_400;

/**
 * Seconds to wait, from `retry-after-ms` (OpenAI's precise variant, preferred when present) or
 * `retry-after` (delay-seconds or an HTTP date, RFC 9110 §10.2.3). Rounded up to whole seconds
 * because that is what a client Retry-After header can carry. Unparseable → undefined.
 */
export function retryAfterSecondsFrom(headers: HeaderBag, nowMs: number = Date.now()): number | undefined {
  const milliseconds = firstHeader(headers, 'retry-after-ms')?.trim();
  if (milliseconds !== undefined && /^\d+(\.\d+)?$/.test(milliseconds)) return boundedSeconds(Number(milliseconds) / 1000);
  const value = firstHeader(headers, 'retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return boundedSeconds(Number(value));
  // Date.parse is lenient ('-5' parses as the year -5), so only date-looking strings reach it.
  if (!httpDateShape.test(value)) return undefined;
  const dateMs = Date.parse(value);
  if (Number.isNaN(dateMs)) return undefined;
  return boundedSeconds(Math.max(0, (dateMs - nowMs) / 1000));
}

function boundedSeconds(seconds: number): number {
  return Math.min(maxRetryAfterSeconds, Math.ceil(seconds));
}

/** Collapses control characters and whitespace runs (no log-line injection) and caps the length. */
export function cleanUpstreamMessage(text: string, maxChars: number = maxUpstreamMessageChars): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const single = text.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  return single.length > maxChars ? `${single.slice(0, maxChars - 1)}…` : single;
}

/**
 * Parses an upstream body as JSON without trusting it: any failure (not JSON, too large) gives
 * undefined. Only read, never merged into our objects, so `__proto__` keys are harmless here.
 */
export function parseJsonLeniently(bodyText: string): unknown {
  if (bodyText.length === 0 || bodyText.length > maxParsedBodyChars) return undefined;
  try {
    return JSON.parse(bodyText) as unknown;
  } catch {
    return undefined;
  }
}

/** Reads `object[key]` when it is a non-empty string. */
export function stringField(object: unknown, key: string): string | undefined {
  if (typeof object !== 'object' || object === null || !Object.hasOwn(object, key)) return undefined;
  const value: unknown = (object as Record<string, unknown>)[key];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** Reads `object[key]` when it is a plain object. */
export function objectField(object: unknown, key: string): object | undefined {
  if (typeof object !== 'object' || object === null || !Object.hasOwn(object, key)) return undefined;
  const value: unknown = (object as Record<string, unknown>)[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

/** The message to show when the body had no recognisable error field. */
export function fallbackMessage(bodyText: string): string {
  const excerpt = cleanUpstreamMessage(bodyText, maxNonJsonExcerptChars);
  return excerpt === '' ? '(empty body)' : excerpt;
}

export interface StatusMappingInput {
  provider: string;
  status: number;
  headers: HeaderBag;
  /** Already extracted from the body by the provider's errors.ts; cleaned and capped here. */
  upstreamMessage: string;
  /** Statuses this upstream uses for "overloaded" (503 everywhere, 529 at Anthropic). */
  overloadedStatuses: readonly number[];
}

/**
 * The status table. 4xx is the request's fault (not retried, status passed through), except
 * 401/403 (another credential may work), 408 (a retry may finish in time) and 429 (another
 * credential, or later). 5xx is the upstream's and retryable. `retryAfterSeconds` is attached
 * wherever the upstream sent one.
 */
export function gatewayErrorForStatus(input: StatusMappingInput): GatewayError {
  const { provider, status } = input;
  const message = `${provider} returned ${status}: ${cleanUpstreamMessage(input.upstreamMessage)}`;
  const retryAfterSeconds = retryAfterSecondsFrom(input.headers);
  if (input.overloadedStatuses.includes(status)) {
    return new GatewayError('GW_UPSTREAM_OVERLOADED', { message, provider, retryable: true, retryAfterSeconds });
  }
  if (status === 401 || status === 403) return new GatewayError('GW_UPSTREAM_AUTH_FAILED', { message, provider, retryable: true });
  if (status === 429) return new GatewayError('GW_UPSTREAM_RATE_LIMITED', { message, provider, retryable: true, retryAfterSeconds });
  if (status === 408) return new GatewayError('GW_UPSTREAM_TIMEOUT', { message, provider, retryable: true });
  // 400/404/413/422 and any other 4xx (405, 409, 415…): the client sees the upstream's status.
  if (status >= 400 && status < 500) return new GatewayError('GW_UPSTREAM_BAD_REQUEST', { message, provider, status, retryable: false });
  if (status >= 500 && status < 600) return new GatewayError('GW_UPSTREAM_ERROR', { message, provider, retryable: true, retryAfterSeconds });
  // A 1xx/2xx/3xx handed to mapError (a redirect we do not follow): the answer is unusable.
  return new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message, provider, retryable: false });
}
