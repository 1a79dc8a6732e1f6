import type { GatewayError } from '../../errors/gateway-error.js';
import type { MapErrorInput } from '../types.js';
import { fallbackMessage, gatewayErrorForStatus, objectField, parseJsonLeniently, stringField } from '../adapter-support.js';

/** Anthropic answers 529 `overloaded_error` when the API is saturated; 503 means the same from its edge. */
const anthropicOverloadedStatuses = [503, 529] as const;

/**
 * Finds the human message in an Anthropic error body,
 * `{"type":"error","error":{"type","message"},"request_id"}`. The error type is not shown: the
 * gateway's own code says the same thing in each client's vocabulary. Non-JSON bodies (an edge
 * proxy's HTML page) fall back to their first 200 characters.
 */
export function anthropicErrorMessage(bodyText: string): string {
  const body = parseJsonLeniently(bodyText);
  const error = objectField(body, 'error');
  return stringField(error, 'message') ?? stringField(body, 'message') ?? fallbackMessage(bodyText);
}

/** Maps a non-2xx Anthropic answer to a gateway error; `retryable` comes from the status table. */
export function mapAnthropicError(input: MapErrorInput): GatewayError {
  return gatewayErrorForStatus({
    provider: input.provider,
    status: input.status,
    headers: input.headers,
    upstreamMessage: anthropicErrorMessage(input.bodyText),
    overloadedStatuses: anthropicOverloadedStatuses,
  });
}
