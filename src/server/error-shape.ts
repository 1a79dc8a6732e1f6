import { anthropicTypeByKind, geminiStatusByKind, openaiTypeByKind } from '../errors/codes.js';
import type { GatewayError } from '../errors/gateway-error.js';
import { encodeSseEvent } from '../formats/sse.js';
import { redactText } from '../security/redact.js';

/**
 * How an error is rendered for a request: the body of its error answers and of its mid-stream error
 * event. Decided by the path (and for /v1/models a header) alone, so it is known before anything can
 * fail, the body included. This is not the request's wire format (`formats/wire-format.ts`): OpenAI's
 * chat and Responses formats share the `openai` shape, and `/v1beta/…` answers in Gemini's shape
 * although no Gemini format is built yet.
 */
export type ErrorShape = 'openai' | 'openai-responses' | 'anthropic' | 'gemini';

/** Decides the error shape once per request, before anything can fail, so every error has the right shape. */
export function errorShapeOf(url: string, headers: Readonly<Record<string, string | string[] | undefined>>): ErrorShape {
  if (url.startsWith('/v1/messages')) return 'anthropic';
  if (url.startsWith('/v1beta/')) return 'gemini';
  if (url === '/v1/responses' || url.startsWith('/v1/responses?') || url.startsWith('/v1/responses/')) return 'openai-responses';
  if (url.startsWith('/v1/models') && headers['anthropic-version'] !== undefined) return 'anthropic';
  return 'openai';
}

/** The client-visible message: redacted, and naming the provider for upstream failures. */
function publicMessage(error: GatewayError): string {
  return redactText(error.message);
}

/** The error body in the given shape. `code` is our stable catalog code. */
export function errorBody(shape: ErrorShape, error: GatewayError): Record<string, unknown> {
  const message = publicMessage(error);
  switch (shape) {
    case 'anthropic':
      return { type: 'error', error: { type: anthropicTypeByKind[error.kind], message } };
    case 'gemini':
      return { error: { code: error.status, message, status: geminiStatusByKind[error.kind] } };
    case 'openai':
    case 'openai-responses':
      return { error: { message, type: openaiTypeByKind[error.kind], param: null, code: error.code } };
  }
}

/**
 * The error as one SSE event, for failures after the stream's headers went out. A Responses stream
 * ends with `response.failed` (its `response.error` carries code and message), the event Codex CLI
 * and the `openai` SDK read as a failed turn; a translating bridge writes its own, with the
 * response's id and the next sequence number (bridges/responses-framing.ts), so this one serves a
 * relayed Responses stream, whose id the gateway does not track.
 */
export function streamErrorEvent(shape: ErrorShape, error: GatewayError): string {
  const body = errorBody(shape, error);
  if (shape === 'openai-responses') {
    const { message, code } = body['error'] as { message: string; code: string };
    const response = { id: 'resp_failed', object: 'response', status: 'failed', error: { code, message }, incomplete_details: null, output: [], usage: null };
    return encodeSseEvent(JSON.stringify({ type: 'response.failed', response }), 'response.failed');
  }
  const text = JSON.stringify(body);
  return shape === 'anthropic' ? encodeSseEvent(text, 'error') : encodeSseEvent(text);
}
