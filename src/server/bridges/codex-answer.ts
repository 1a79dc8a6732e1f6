import { GatewayError } from '../../errors/gateway-error.js';
import { createSseParser, type SseEvent } from '../../formats/sse.js';
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
  let final: unknown;
  for (const event of eventsByLines(text) ?? eventsBySse(text)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.data);
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
const decidingTypes: readonly string[] = ['response.completed', 'response.incomplete', 'response.failed', 'error'];

/**
 * The events whose data must be parsed (trimmed data; not empty, not `[DONE]`, not an event whose
 * type, written first, decides nothing), framed by the SSE parser (formats/sse.ts): any stream.
 */
export function eventsBySse(text: string): SseEvent[] {
  const parser = createSseParser(text.length + 1);
  const events: SseEvent[] = [];
  for (const event of [...parser.push(text), ...parser.flush()]) {
    const data = event.data.trim();
    if (data === '' || data === '[DONE]') continue;
    const leadingType = typeWrittenFirst(data);
    if (leadingType === undefined || decidingTypes.includes(leadingType)) events.push({ event: event.event, data });
  }
  return events;
}

const typedData = '{"type":"';

/**
 * The same events as eventsBySse, found by a walk over the lines that reads each event's type in
 * place and slices only the events it keeps, for a stream as Responses servers write it: `\n` line
 * ends, each event one `data: {"type":"…"` line, with an `event:` line, comments and other fields
 * around it as the parser allows them. The parser sliced every line and value and built an event
 * for each (7.8 against 5.7 µs per answer of the bench stub, 29 events, in a micro-benchmark).
 * Undefined, and the caller frames with the parser, for anything else: a `\r`, a second data line in
 * one event, data that does not start with its type written plainly, a `data` or `event` line
 * without a colon. Where it answers, it answers as eventsBySse does (codex-answer.test.ts compares
 * the two over generated streams).
 */
export function eventsByLines(text: string): SseEvent[] | undefined {
  if (text.includes('\r')) return undefined;
  const events: SseEvent[] = [];
  /** The current event's name, as a range of `text` (sliced only for an event kept): -1 for none. */
  let nameStart = -1;
  let nameEnd = 0;
  /** Where the current event's data starts: -1 before its data line, -2 when it is passed over. */
  let dataStart = -1;
  let dataEnd = 0;
  const dispatch = (): void => {
    if (dataStart >= 0) events.push({ event: nameStart === -1 ? undefined : text.slice(nameStart, nameEnd), data: text.slice(dataStart, dataEnd).trim() });
    nameStart = -1;
    dataStart = -1;
  };
  for (let lineStart = 0; ; ) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    const lineLength = lineEnd - lineStart;
    if (lineLength === 0) dispatch();
    else if (text.startsWith('data:', lineStart)) {
      if (dataStart !== -1) return undefined; // a second data line: the parser joins them
      const valueStart = text.charCodeAt(lineStart + 5) === 32 ? lineStart + 6 : lineStart + 5;
      if (!text.startsWith(typedData, valueStart)) return undefined;
      const typeStart = valueStart + typedData.length;
      const typeEnd = text.indexOf('"', typeStart);
      if (typeEnd === -1 || typeEnd > lineEnd) return undefined;
      dataStart = mustParseType(text, typeStart, typeEnd) ? valueStart : -2;
      dataEnd = lineEnd;
    } else if (text.startsWith('event:', lineStart)) {
      nameStart = text.charCodeAt(lineStart + 6) === 32 ? lineStart + 7 : lineStart + 6;
      nameEnd = lineEnd;
    } else if ((lineLength === 4 && text.startsWith('data', lineStart)) || (lineLength === 5 && text.startsWith('event', lineStart))) {
      return undefined; // a field without a colon: the parser reads it as an empty value
    } // any other line (a comment, `id`, `retry`, an unknown field) the parser reads past, and so does the walk
    if (lineEnd === text.length) break;
    lineStart = lineEnd + 1;
  }
  dispatch(); // a last event without its blank line: the parser's flush dispatches it too
  return events;
}

/**
 * Whether the type at `start..end` (between its quotes, written first) is one that decides the
 * answer, or one written with an escape (typeWrittenFirst does not read those: the event is parsed).
 */
function mustParseType(text: string, start: number, end: number): boolean {
  for (const type of decidingTypes) if (end - start === type.length && text.startsWith(type, start)) return true;
  for (let index = start; index < end; index += 1) if (text.charCodeAt(index) === 92 /* backslash */) return true;
  return false;
}

function failureMessage(event: Record<string, unknown>): string {
  const response = event['response'];
  const error = typeof response === 'object' && response !== null ? (response as Record<string, unknown>)['error'] : undefined;
  const message = typeof error === 'object' && error !== null ? (error as Record<string, unknown>)['message'] : event['message'];
  return typeof message === 'string' ? message.slice(0, 500) : 'The Responses upstream reported a failed response.';
}
