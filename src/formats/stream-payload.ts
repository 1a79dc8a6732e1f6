import { GatewayError } from '../errors/gateway-error.js';
import type { SseEvent } from './sse.js';

/**
 * Reading one upstream stream event's JSON, shared by the stream translators (each used to carry
 * its own copy): an event's data must be a JSON object, and an upstream that reports an error in
 * the stream (`{"error":…}` in an OpenAI chunk, an `error` event in an Anthropic or Responses
 * stream) fails it. Every failure is GW_UPSTREAM_STREAM_FAILED with the upstream's own message,
 * which the caller redacts; a cut or garbled stream must not look like a short answer. Pure.
 */

function streamFailed(message: string): GatewayError {
  return new GatewayError('GW_UPSTREAM_STREAM_FAILED', { message });
}

/** `data` parsed as a JSON object; `what` names it in the failure ("chunk" for OpenAI, "event" for the typed streams). */
export function parseStreamJson(data: string, what: 'chunk' | 'event'): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw streamFailed(`upstream sent a stream ${what} that is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw streamFailed(`upstream sent a stream ${what} that is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/**
 * One event of an OpenAI chat-completion stream: undefined for an empty one, `'done'` for
 * `[DONE]`, else the chunk (the event's `parsed` object when it has one). A chunk carrying `error`
 * (vLLM, LiteLLM, OpenAI itself mid-stream) throws with its message.
 */
export function readOpenAIStreamChunk(event: SseEvent): Record<string, unknown> | 'done' | undefined {
  let chunk: Record<string, unknown>;
  if (event.parsed !== undefined) {
    // A chunk object from a composed bridge's pivot: what JSON.parse of its JSON would give.
    chunk = event.parsed as Record<string, unknown>;
  } else {
    const data = event.data.trim();
    if (data === '') return undefined;
    if (data === '[DONE]') return 'done';
    chunk = parseStreamJson(data, 'chunk');
  }
  const error = chunk['error'];
  if (error !== undefined && error !== null) {
    const message = typeof error === 'string' ? error : typeof error === 'object' && !Array.isArray(error) && typeof (error as Record<string, unknown>)['message'] === 'string' ? ((error as Record<string, unknown>)['message'] as string) : undefined;
    throw streamFailed(message ?? 'upstream reported an error mid-stream');
  }
  return chunk;
}

/**
 * One event of a typed stream (Anthropic Messages, OpenAI Responses): undefined for an empty one,
 * else its type (the payload's `type`, else the SSE event name) and payload. With `failOnError`, an
 * `error` event throws with its message (not retryable: the stream already started). `scan`, when
 * given, reads the events it knows without JSON.parse and must give what JSON.parse gives, else
 * undefined (the Anthropic readers pass anthropic/stream-event-scan.ts).
 */
export function readTypedStreamEvent(
  event: SseEvent,
  failOnError: boolean,
  scan?: (data: string) => Record<string, unknown> | undefined,
): { type: unknown; payload: Record<string, unknown> } | undefined {
  const data = event.data.trim();
  if (data === '') return undefined;
  const payload = scan?.(data) ?? parseStreamJson(data, 'event');
  const type = payload['type'] ?? event.event;
  if (failOnError && (type === 'error' || event.event === 'error')) {
    const error = payload['error'];
    const message = typeof error === 'object' && error !== null && !Array.isArray(error) && typeof (error as Record<string, unknown>)['message'] === 'string' ? ((error as Record<string, unknown>)['message'] as string) : 'upstream reported an error mid-stream';
    throw new GatewayError('GW_UPSTREAM_STREAM_FAILED', { message, retryable: false });
  }
  return { type, payload };
}

/**
 * A typed event's `type` when its data starts with it, written plainly (`{"type":"…"`, no escape),
 * read without JSON.parse: what lets a reader pass over the events it ignores unparsed (the Codex
 * answer and stream readers). Undefined otherwise, and the caller parses the event. A reader that
 * trusts it takes an event that names another type after its first (JSON.parse keeps the last) by
 * its first, as if the upstream had not sent the event it hides.
 */
export function typeWrittenFirst(data: string): string | undefined {
  if (!data.startsWith('{"type":"')) return undefined;
  const end = data.indexOf('"', 9);
  if (end === -1) return undefined;
  const type = data.slice(9, end);
  return type.includes('\\') ? undefined : type;
}
