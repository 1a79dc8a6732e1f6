import { anthropicTypeByKind, geminiStatusByKind, openaiTypeByKind } from '../errors/codes.js';
import type { GatewayError } from '../errors/gateway-error.js';
import { encodeSseEvent } from '../formats/sse.js';
import { redactText } from '../security/redact.js';

/** The client-facing wire format of a request, decided by its path (and for /v1/models a header). */
export type Surface = 'openai' | 'anthropic' | 'gemini';

/** Decides the surface once per request, before anything can fail, so every error has the right shape. */
export function surfaceOf(url: string, headers: Readonly<Record<string, string | string[] | undefined>>): Surface {
  if (url.startsWith('/v1/messages')) return 'anthropic';
  if (url.startsWith('/v1beta/')) return 'gemini';
  if (url.startsWith('/v1/models') && headers['anthropic-version'] !== undefined) return 'anthropic';
  return 'openai';
}

/** The client-visible message: redacted, and naming the provider for upstream failures. */
function publicMessage(error: GatewayError): string {
  return redactText(error.message);
}

/** The error body in the surface's own shape. `code` is our stable catalog code. */
export function errorBody(surface: Surface, error: GatewayError): Record<string, unknown> {
  const message = publicMessage(error);
  switch (surface) {
    case 'anthropic':
      return { type: 'error', error: { type: anthropicTypeByKind[error.kind], message } };
    case 'gemini':
      return { error: { code: error.status, message, status: geminiStatusByKind[error.kind] } };
    case 'openai':
      return { error: { message, type: openaiTypeByKind[error.kind], param: null, code: error.code } };
  }
}

/** The error as one SSE event, for failures after the stream's headers went out. */
export function streamErrorEvent(surface: Surface, error: GatewayError): string {
  const body = JSON.stringify(errorBody(surface, error));
  return surface === 'anthropic' ? encodeSseEvent(body, 'error') : encodeSseEvent(body);
}
