import { GatewayError } from '../../errors/gateway-error.js';
import { createSseParser } from '../../formats/sse.js';
import { typeWrittenFirst } from '../../formats/stream-payload.js';
import { parseUpstreamJson } from './upstream-json.js';

/**
 * The answer of a Responses upstream to a non-streamed client. Every request to the `codex` type
 * streams (the ChatGPT backend serves nothing else), so the whole body read by the pipeline is an
 * event stream: the answer is the `response` object of its last `response.completed` (or
 * `response.incomplete`) event, which carries the whole output and the usage. A body that is plain
 * JSON (a Responses server that ignored `stream`) is taken as the response object itself.
 *
 * `response.failed` or an `error` event → GW_UPSTREAM_ERROR with the upstream's message (redacted
 * by the pipeline, which masked registered secrets in the body before this ran); neither a final
 * event nor JSON → GW_UPSTREAM_BAD_RESPONSE.
 */
export function responsesAnswerFromBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trimStart().startsWith('{')) return parseUpstreamJson(body);
  const parser = createSseParser(body.length + 1);
  let final: unknown;
  for (const event of [...parser.push(text), ...parser.flush()]) {
    const data = event.data.trim();
    if (data === '' || data === '[DONE]') continue;
    const leadingType = typeWrittenFirst(data);
    if (leadingType !== undefined && !decidingTypes.has(leadingType)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      continue; // a stray fragment: the final event decides
    }
    if (typeof parsed !== 'object' || parsed === null) continue;
    const record = parsed as Record<string, unknown>;
    const type = record['type'] ?? event.event;
    if (type === 'response.completed' || type === 'response.incomplete') final = record['response'];
    else if (type === 'response.failed' || type === 'error') throw new GatewayError('GW_UPSTREAM_ERROR', { message: failureMessage(record) });
  }
  if (final === undefined) throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message: 'The Responses upstream ended its answer without response.completed.' });
  return final;
}

/**
 * The event types that decide the answer; every other event of the stream is passed over unparsed
 * when its type comes first (typeWrittenFirst): the deltas and the rest (~30 events for a short
 * answer, all parsed before: ~24 µs of ~120 per non-streamed Codex answer in the profile).
 */
const decidingTypes = new Set(['response.completed', 'response.incomplete', 'response.failed', 'error']);

function failureMessage(event: Record<string, unknown>): string {
  const response = event['response'];
  const error = typeof response === 'object' && response !== null ? (response as Record<string, unknown>)['error'] : undefined;
  const message = typeof error === 'object' && error !== null ? (error as Record<string, unknown>)['message'] : event['message'];
  return typeof message === 'string' ? message.slice(0, 500) : 'The Responses upstream reported a failed response.';
}
