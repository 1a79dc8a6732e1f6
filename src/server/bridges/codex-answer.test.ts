import { describe, expect, it } from 'vitest';
import { thrown } from '../../../test/helpers/translator-testing.js';
import { responsesAnswerFromBody } from './codex-answer.js';

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
});
