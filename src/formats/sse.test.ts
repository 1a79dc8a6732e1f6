import { describe, expect, it } from 'vitest';
import { createSseParser, SseEventTooLargeError, type SseEvent } from './sse.js';

/** Feeds `text` in pieces of `size` characters and collects every event, flush included. */
function parseInPieces(text: string, size: number): SseEvent[] {
  const parser = createSseParser();
  const events: SseEvent[] = [];
  for (let offset = 0; offset < text.length; offset += size) events.push(...parser.push(text.slice(offset, offset + size)));
  events.push(...parser.flush());
  return events;
}

describe('createSseParser', () => {
  it('cuts events on every line-end style, whatever the split', () => {
    const text = 'event: a\r\ndata: 1\r\n\r\ndata: 2\rdata: 3\r\rdata: 4\n\n: comment\ndata: 5\n\n';
    const expected = [
      { event: 'a', data: '1' },
      { event: undefined, data: '2\n3' },
      { event: undefined, data: '4' },
      { event: undefined, data: '5' },
    ];
    for (let size = 1; size <= text.length; size += 1) expect(parseInPieces(text, size)).toEqual(expected);
  });

  // The field name is compared in place, without slicing it out of each line: checked against the
  // spec read literally (field = text before the first colon, value = after it, one leading space
  // dropped) over lines that only look like `data` or `event`.
  it('reads only the data and event fields, as the spec splits a line into field and value', () => {
    const lines = ['data', 'data:', 'data:x', 'data: x', 'data:  two spaces', 'data :x', 'dat: x', 'datax: y', 'data\u0000: z', 'Data: x', 'event', 'event:', 'event:e1', 'event: e2',
      'events: no', 'even: no', 'id: 7', 'retry: 10', 'data: a: b', 'data: é😀', 'event: data', 'data: event: x', ': comment', 'x'];
    const reference = (text: string): SseEvent[] => {
      const events: SseEvent[] = [];
      let name: string | undefined;
      let data: string[] = [];
      for (const line of text.split('\n')) {
        if (line === '') {
          if (data.length > 0) events.push({ event: name, data: data.join('\n') });
          name = undefined;
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') data.push(value);
        else if (field === 'event') name = value;
      }
      return events;
    };
    for (let first = 0; first < lines.length; first++) {
      for (let second = 0; second < lines.length; second++) {
        const text = `${lines[first]}\n${lines[second]}\ndata: end\n\n${lines[second]}\n\n`;
        expect(parseInPieces(text, 7), text).toEqual(reference(text));
      }
    }
  });

  it('keeps a "\\r\\n" split across two pieces as one line end', () => {
    const parser = createSseParser();
    expect(parser.push('data: x\r')).toEqual([]);
    expect(parser.push('\n\r')).toEqual([{ event: undefined, data: 'x' }]);
    expect(parser.push('\ndata: y\n\n')).toEqual([{ event: undefined, data: 'y' }]);
  });

  it('returns a last event that lacks its blank line on flush', () => {
    expect(parseInPieces('data: tail', 3)).toEqual([{ event: undefined, data: 'tail' }]);
  });

  // A hostile upstream sends one huge line in small TCP pieces. Rescanning the buffer per piece
  // made this quadratic (a 2 MiB line cost ~19 s of CPU); scanning only the new piece is linear.
  // The bound is generous (the linear parser needs a few milliseconds); it only catches quadratic work.
  it('parses a multi-MiB line fed in small pieces in linear time', () => {
    const line = `data: ${'x'.repeat(4 * 1024 * 1024)}\n\n`;
    const started = process.hrtime.bigint();
    const events = parseInPieces(line, 512);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(events).toHaveLength(1);
    expect(events[0]?.data.length).toBe(4 * 1024 * 1024);
    expect(elapsedMs).toBeLessThan(3_000);
  }, 60_000);

  it('refuses a line over the event limit while it is still arriving, piece by piece', () => {
    const parser = createSseParser(64 * 1024);
    const piece = 'y'.repeat(1024);
    let fed = 0;
    const feed = (): void => {
      parser.push('data: ');
      for (;;) {
        parser.push(piece);
        fed += piece.length;
      }
    };
    expect(feed).toThrow(SseEventTooLargeError);
    // It fails right after crossing the limit, not at the end of the line (which never comes).
    expect(fed).toBeLessThanOrEqual(65 * 1024);
  });

  it('counts earlier lines of the same event toward the limit', () => {
    const parser = createSseParser(100);
    parser.push(`data: ${'a'.repeat(60)}\n`);
    expect(() => parser.push(`data: ${'b'.repeat(60)}`)).toThrow(SseEventTooLargeError);
  });

  it('refuses an oversized line even when its end arrives in the same piece', () => {
    const parser = createSseParser(100);
    expect(() => parser.push(`data: ${'c'.repeat(200)}\n\n`)).toThrow(SseEventTooLargeError);
  });
});
