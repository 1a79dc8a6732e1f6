import type { GatewayError } from '../../errors/gateway-error.js';
import type { MapErrorInput } from '../types.js';
import { fallbackMessage, gatewayErrorForStatus, objectField, parseJsonLeniently, stringField } from '../adapter-support.js';

/** The Responses API, like chat completions, answers 503 when overloaded. */
const codexOverloadedStatuses = [503] as const;

/**
 * Finds the message in a Responses upstream's error body: api.openai.com sends
 * `{"error":{"message","type","param","code"}}`; the ChatGPT backend sends that, or
 * `{"detail":"…"}` (FastAPI) for a malformed request, and for a used-up plan
 * `{"error":{"type":"usage_limit_reached","message",…,"resets_in_seconds"}}`.
 */
export function codexErrorMessage(bodyText: string): string {
  const body = parseJsonLeniently(bodyText);
  const error = objectField(body, 'error');
  return stringField(error, 'message') ?? stringField(body, 'detail') ?? stringField(body, 'error') ?? stringField(body, 'message') ?? fallbackMessage(bodyText);
}

/** Maps a non-2xx answer of a Responses upstream to a gateway error (retryable from the status). */
export function mapCodexError(input: MapErrorInput): GatewayError {
  return gatewayErrorForStatus({
    provider: input.provider,
    status: input.status,
    headers: input.headers,
    upstreamMessage: codexErrorMessage(input.bodyText),
    overloadedStatuses: codexOverloadedStatuses,
  });
}
