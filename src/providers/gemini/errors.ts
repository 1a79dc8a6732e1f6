import { GatewayError } from '../../errors/gateway-error.js';
import type { MapErrorInput } from '../types.js';
import { cleanUpstreamMessage, fallbackMessage, gatewayErrorForStatus, objectField, parseJsonLeniently, stringField } from '../adapter-support.js';

/** Gemini answers 503 UNAVAILABLE ("The model is overloaded") when saturated. */
const geminiOverloadedStatuses = [503] as const;

/**
 * The error object of a Gemini body: `{"error":{"code","message","status","details"}}` from the
 * Gemini API; Code Assist sends the same object, sometimes inside a one-element array (its stream
 * method answers errors in the array framing).
 */
function errorObject(bodyText: string): object | undefined {
  const body = parseJsonLeniently(bodyText);
  const first: unknown = Array.isArray(body) ? body[0] : body;
  return objectField(first, 'error');
}

/** The human message of a Gemini error body, or the body's first 200 characters. */
export function geminiErrorMessage(bodyText: string): string {
  return stringField(errorObject(bodyText), 'message') ?? fallbackMessage(bodyText);
}

/** Google's RetryInfo `retryDelay` ("37s", "0.5s"): whole seconds, rounded up; undefined when absent. */
export function retryDelaySeconds(bodyText: string): number | undefined {
  const details: unknown = (errorObject(bodyText) as { details?: unknown } | undefined)?.details;
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    const delay = stringField(detail, 'retryDelay');
    const match = delay === undefined ? null : /^(\d+(?:\.\d+)?)s$/.exec(delay);
    if (match !== null) return Math.ceil(Number(match[1]));
  }
  return undefined;
}

/**
 * Maps a non-2xx Gemini answer to a gateway error. A 429 RESOURCE_EXHAUSTED carries its wait in
 * the body (RetryInfo), not in a header: it becomes the Retry-After the status table reads, unless
 * the upstream also sent the header (which wins). The Gemini API's 400 for a bad key
 * ("API key not valid") is a credential failure, like 401/403 elsewhere, so failover tries the
 * next key instead of handing the client a 400 about the gateway's own key.
 */
export function mapGeminiError(input: MapErrorInput): GatewayError {
  const delay = retryDelaySeconds(input.bodyText);
  const headers = delay === undefined || input.headers['retry-after'] !== undefined ? input.headers : { ...input.headers, 'retry-after': String(delay) };
  const message = geminiErrorMessage(input.bodyText);
  if (input.status === 400 && JSON.stringify(errorObject(input.bodyText) ?? {}).includes('API_KEY_INVALID')) {
    const { provider } = input;
    return new GatewayError('GW_UPSTREAM_AUTH_FAILED', { message: `${provider} returned 400: ${cleanUpstreamMessage(message)}`, provider, retryable: true });
  }
  return gatewayErrorForStatus({
    provider: input.provider,
    status: input.status,
    headers,
    upstreamMessage: message,
    overloadedStatuses: geminiOverloadedStatuses,
  });
}
