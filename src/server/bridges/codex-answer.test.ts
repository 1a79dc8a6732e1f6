import { describe, expect, it } from 'vitest';
import { randomText, seededRandom, thrown } from '../../../test/helpers/translator-testing.js';
import { eventsByLines, eventsBySse, responsesAnswerFromBody } from './codex-answer.js';

const sse = (type: string, data: string): string => `event: ${type}\ndata: ${data}\n\n`;
const completed = sse('response.completed', '{"type":"response.completed","sequence_number":9,"response":{"id":"resp_1","status":"completed","output":[]}}');
const body = (...events: string[]): Buffer => Buffer.from(events.join(''));

describe('responsesAnswerFromBody', () => {
  it('answers with the response of response.completed, passing over the other events unparsed', () => {
    const answer = responsesAnswerFromBody(
      body(
        sse('response.created', '{"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}'),
        sse('response.output_text.delta', '{"type":"response.output_text.delta","delta":garbled'),
        completed,
      ),
    );
    expect(answer).toEqual({ id: 'resp_1', status: 'completed', output: [] });
  });

  it('parses an event that does not start with its type, and takes response.incomplete as final too', () => {
    expect(responsesAnswerFromBody(body(sse('response.completed', '{"sequence_number":1,"response":{"id":"r2"},"type":"response.completed"}')))).toEqual({ id: 'r2' });
    expect(responsesAnswerFromBody(body(sse('response.incomplete', '{"type":"response.incomplete","response":{"id":"r3","status":"incomplete"}}')))).toEqual({ id: 'r3', status: 'incomplete' });
  });

  it('fails on response.failed or error, and on a stream without a final event', () => {
    const failed = sse('response.failed', '{"type":"response.failed","response":{"error":{"message":"upstream broke"}}}');
    expect(thrown(() => responsesAnswerFromBody(body(failed)))).toMatchObject({ code: 'GW_UPSTREAM_ERROR', message: 'upstream broke' });
    expect(thrown(() => responsesAnswerFromBody(body(sse('error', '{"type":"error","message":"overloaded"}'))))).toMatchObject({ code: 'GW_UPSTREAM_ERROR', message: 'overloaded' });
    // A final type named after another first is taken by the first: no final event, no answer.
    const hidden = sse('response.output_text.done', '{"type":"response.output_text.done","type":"response.completed","response":{"id":"x"}}');
    expect(thrown(() => responsesAnswerFromBody(body(hidden)))).toMatchObject({ code: 'GW_UPSTREAM_BAD_RESPONSE' });
  });

  it('takes a plain JSON body as the response object', () => {
    expect(responsesAnswerFromBody(Buffer.from('{"id":"resp_plain","output":[]}'))).toEqual({ id: 'resp_plain', output: [] });
  });

  it('frames a stream by its lines exactly as the SSE parser frames it, or leaves it to the parser', () => {
    const random = seededRandom(271);
    const pick = <T>(choices: readonly T[]): T => choices[Math.floor(random() * choices.length)] as T;
    const types = ['response.created', 'response.output_text.delta', 'response.completed', 'response.incomplete', 'response.failed', 'error', 'response.completedx', 'respons\\u0065.completed'];
    const dataLine = (): string =>
      pick([
        () => `data: {"type":"${pick(types)}","sequence_number":${Math.floor(random() * 9)}}`,
        () => `data:{"type":"${pick(types)}","response":{"id":"r"}}`,
        () => `data: {"type":"${pick(types)}" }  `,
        () => `data: {"type":"${pick(types)}`,
        () => `data: {"sequence_number":1,"type":"${pick(types)}"}`,
        () => `data: ${randomText(random, ['[DONE]', '', ' ', '{', '"type"', 'x'])}`,
        () => 'data',
      ])();
    const otherLine = (): string => pick([`event: ${pick(types)}`, 'event:error', 'event', ': keep-alive', 'id: 7', 'retry: 10', 'data-ish: x', '\ufeffdata: {}', 'id']);
    let framedByLines = 0;
    let framedWithEvents = 0;
    for (let round = 0; round < 3000; round++) {
      const lines: string[] = [];
      const eventCount = 1 + Math.floor(random() * 5);
      for (let event = 0; event < eventCount; event++) {
        if (random() < 0.4) lines.push(otherLine());
        lines.push(dataLine());
        if (random() < 0.05) lines.push(dataLine());
        if (random() < 0.2) lines.push(otherLine());
        lines.push('');
      }
      const separator = random() < 0.9 ? '\n' : pick(['\r\n', '\r']);
      let text = lines.join(separator);
      if (random() < 0.3) text = text.replace(/\n+$/, '');
      const byLines = eventsByLines(text);
      if (byLines === undefined) continue;
      framedByLines++;
      if (byLines.length > 0) framedWithEvents++;
      expect(byLines, JSON.stringify(text)).toEqual(eventsBySse(text));
    }
    // Many generated streams are ones the walk frames itself (with events to parse); the rest exercise its refusals.
    expect(framedByLines).toBeGreaterThan(300);
    expect(framedWithEvents).toBeGreaterThan(200);
    expect(framedByLines).toBeLessThan(2900);
  });
});
