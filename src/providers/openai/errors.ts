import type { GatewayError } from '../../errors/gateway-error.js';
import type { MapErrorInput } from '../types.js';
import { fallbackMessage, gatewayErrorForStatus, objectField, parseJsonLeniently, stringField } from '../adapter-support.js';

/**
 * OpenAI-compatible upstreams only answer 503 for "overloaded" (OpenAI: "The engine is currently
 * overloaded"); 529 is Anthropic's and would be a plain 5xx here.
 */
const openaiOverloadedStatuses = [503] as const;

/**
 * Finds the human message in an OpenAI-compatible error body. OpenAI itself sends
 * `{"error":{"message","type","param","code"}}`; servers that only claim compatibility vary:
 * vLLM sends `{"object":"error","message",...}`, some send `{"error":"text"}` or FastAPI's
 * `{"detail":"text"}`. Anything else falls back to the first 200 characters of the body.
 */
export function openaiErrorMessage(bodyText: string): string {
  const body = parseJsonLeniently(bodyText);
  const error = objectField(body, 'error');
  return (
    stringField(error, 'message') ??
    stringField(body, 'error') ??
    stringField(body, 'message') ??
    stringField(body, 'detail') ??
    fallbackMessage(bodyText)
  );
}

/**
 * Maps a non-2xx answer of an OpenAI-compatible upstream to a gateway error. Note OpenAI's 401
 * body echoes a masked key (`test-ups****0001`); the server's redactor runs over the message
 * before any client or log sees it, and nothing secret is added here.
 */
export function mapOpenAIError(input: MapErrorInput): GatewayError {
  return gatewayErrorForStatus({
    provider: input.provider,
    status: input.status,
    headers: input.headers,
    upstreamMessage: openaiErrorMessage(input.bodyText),
    overloadedStatuses: openaiOverloadedStatuses,
  });
}
