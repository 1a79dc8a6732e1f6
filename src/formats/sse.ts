/**
 * Server-sent events, as the WHATWG spec defines the wire format: lines `field: value`, events
 * separated by a blank line, `\r\n`, `\n` or `\r` line ends. The parser is incremental (bytes arrive
 * in arbitrary pieces) and bounded: an event larger than `maxEventBytes` is an error, so a hostile
 * upstream cannot make the gateway buffer without limit.
 */
export interface SseEvent {
  /** The `event:` field; undefined when the upstream sent none (OpenAI streams send none). */
  event: string | undefined;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /**
   * The data already parsed, for an event that never was text: a composed bridge's chat pivot hands
   * the chunk objects of its upstream half to its client half as they are, instead of writing them
   * as JSON and parsing them again (bridges/composed-bridge.ts). `data` is then empty; the reader of
   * chat chunks (stream-payload.ts, readOpenAIStreamChunk) takes this instead.
   */
  parsed?: object;
}

export class SseEventTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`SSE event larger than ${limitBytes} bytes`);
    this.name = 'SseEventTooLargeError';
  }
}

/** 8 MiB: far above any real event (a large tool-call argument delta is a few KiB). */
export const defaultMaxSseEventBytes = 8 * 1024 * 1024;

export interface SseParser {
  /** Feeds a piece of the stream; returns the events it completed. */
  push(piece: string): SseEvent[];
  /** The stream ended: returns a final event if one was left without its blank line. */
  flush(): SseEvent[];
}

/**
 * Linear in the bytes fed: each piece is scanned once, and only the piece (a line cut across pieces
 * is kept as its unfinished text, never rescanned). Rescanning the whole buffer per piece made one
 * 2 MiB line cost seconds of CPU. The size limit is checked on every piece, so a line that never
 * ends fails as soon as it passes the limit instead of when it ends.
 */
export function createSseParser(maxEventBytes: number = defaultMaxSseEventBytes): SseParser {
  /** The current line's text so far (it started in an earlier piece and has not ended yet). */
  let partialLine = '';
  /** The previous piece ended with '\r': a '\n' at the start of this piece belongs to that line end. */
  let skipLineFeed = false;
  let eventName: string | undefined;
  /**
   * The event's data so far (its `data:` lines joined with '\n'), undefined before its first
   * `data:` line. A string rather than an array of lines: nearly every event has one data line, and
   * an array per event was an allocation per streamed chunk.
   */
  let data: string | undefined;
  let pendingBytes = 0;

  function dispatch(into: SseEvent[]): void {
    if (data !== undefined) into.push({ event: eventName, data });
    eventName = undefined;
    data = undefined;
    pendingBytes = 0;
  }

  function takeLine(line: string, into: SseEvent[]): void {
    if (line === '') return dispatch(into);
    if (line.charCodeAt(0) === 58 /* ':' comment */) return;
    const colon = line.indexOf(':');
    pendingBytes += line.length;
    if (pendingBytes > maxEventBytes) throw new SseEventTooLargeError(maxEventBytes);
    // The field name is compared in place (no slice per line): `data` and `event` are the only
    // fields read; `id` and `retry` have no meaning between a proxy and an LLM upstream.
    const end = colon === -1 ? line.length : colon;
    const isData = end === 4 && line.startsWith('data');
    if (!isData && !(end === 5 && line.startsWith('event'))) return;
    // The value: after the colon, without one leading space.
    const value = colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
    if (isData) data = data === undefined ? value : `${data}\n${value}`;
    else eventName = value;
  }

  return {
    push(piece) {
      const events: SseEvent[] = [];
      let start = 0;
      if (skipLineFeed) {
        skipLineFeed = false;
        if (piece.charCodeAt(0) === 10) start = 1;
      }
      // Line ends are found with indexOf (native, ~10x a charCodeAt loop on a 200-byte piece); '\r'
      // is searched only while the piece still has one (LLM upstreams send '\n' alone).
      let nextCarriageReturn = piece.indexOf('\r', start);
      let nextLineFeed = piece.indexOf('\n', start);
      while (nextLineFeed !== -1 || nextCarriageReturn !== -1) {
        const index = nextCarriageReturn === -1 || (nextLineFeed !== -1 && nextLineFeed < nextCarriageReturn) ? nextLineFeed : nextCarriageReturn;
        const text = piece.slice(start, index);
        takeLine(partialLine === '' ? text : partialLine + text, events);
        partialLine = '';
        let end = index;
        if (index === nextCarriageReturn) {
          if (index + 1 === piece.length) skipLineFeed = true;
          else if (piece.charCodeAt(index + 1) === 10) end = index + 1;
        }
        start = end + 1;
        if (nextCarriageReturn !== -1 && nextCarriageReturn < start) nextCarriageReturn = piece.indexOf('\r', start);
        if (nextLineFeed !== -1 && nextLineFeed < start) nextLineFeed = piece.indexOf('\n', start);
      }
      if (start < piece.length) partialLine += piece.slice(start);
      if (partialLine.length + pendingBytes > maxEventBytes) throw new SseEventTooLargeError(maxEventBytes);
      return events;
    },
    flush() {
      const events: SseEvent[] = [];
      if (partialLine.length > 0) takeLine(partialLine, events);
      partialLine = '';
      skipLineFeed = false;
      dispatch(events);
      return events;
    },
  };
}

/** Encodes one event. `data` must not contain raw newlines (JSON.stringify output never does). */
export function encodeSseEvent(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}

/** Parses an event's data as JSON, returning undefined for `[DONE]` or anything unparseable. */
export function parseSseJson(data: string): unknown {
  if (data === '[DONE]') return undefined;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}
