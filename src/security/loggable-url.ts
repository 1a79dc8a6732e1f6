import { redactText } from './redact.js';

/**
 * Query parameters the gateway knows, logged with their (redacted) values: Gemini's `alt=sse` and
 * Anthropic's `beta=true` (Claude Code). Any other parameter is left out of the log: its name or
 * value may be a secret the redactor's shapes do not know.
 */
const loggedParameters = new Set(['alt', 'beta']);

/** Parameters that carry a client key: logged as present, value masked. */
const keyParameters = new Set(['key']);

/**
 * A known parameter's value is logged only when it is a short plain word (`sse`, `true`); anything
 * longer or stranger is shown as `***`, since no credential fits in 16 characters of this shape
 * but a pasted one fits in any longer value.
 */
const loggableValue = /^[A-Za-z0-9._-]{1,16}$/;

/** `decodeURIComponent` that returns the text unchanged when it is not valid percent-encoding. */
function safelyDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The request URL as the access log shows it. Redaction works on the decoded text, because that is
 * what the gateway acts on: `?%6Bey=cpa%5F…` authenticates exactly like `?key=cpa_…`, so it must be
 * masked like it.
 * - The path is redacted after percent-decoding; when decoding changes nothing to mask, the path is
 *   logged as sent.
 * - The query is rebuilt from its decoded parameters: known ones with short plain values, a key
 *   carrier as `key=***`, anything else left out.
 */
export function loggableUrl(url: string): string {
  const queryStart = url.indexOf('?');
  const rawPath = queryStart === -1 ? url : url.slice(0, queryStart);
  let path = redactText(rawPath);
  if (rawPath.includes('%')) {
    const decoded = safelyDecoded(rawPath);
    const redacted = redactText(decoded);
    if (redacted !== decoded) path = redacted;
  }
  if (queryStart === -1) return path;
  const kept: string[] = [];
  for (const [name, value] of new URLSearchParams(url.slice(queryStart + 1))) {
    if (keyParameters.has(name)) kept.push(`${name}=***`);
    else if (loggedParameters.has(name)) kept.push(`${name}=${loggableValue.test(value) ? value : '***'}`);
  }
  return kept.length === 0 ? path : `${path}?${kept.join('&')}`;
}
