import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../errors/gateway-error.js';
import { readOpenAIStreamChunk, readTypedStreamEvent, typeWrittenFirst } from './stream-payload.js';

/** What a failure says: GW_UPSTREAM_STREAM_FAILED with the upstream's message, or a description of what was wrong. */
function failure(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    expect(error.code).toBe('GW_UPSTREAM_STREAM_FAILED');
    return error.message;
  }
  throw new Error('expected a failure');
}

describe('readOpenAIStreamChunk', () => {
  it('skips an empty event, marks [DONE], returns a chunk', () => {
    expect(readOpenAIStreamChunk({ event: undefined, data: '  ' })).toBeUndefined();
    expect(readOpenAIStreamChunk({ event: undefined, data: ' [DONE] ' })).toBe('done');
    expect(readOpenAIStreamChunk({ event: undefined, data: '{"choices":[]}' })).toEqual({ choices: [] });
  });

  it('fails on text that is not a JSON object, and on an error chunk with its message', () => {
    expect(failure(() => readOpenAIStreamChunk({ event: undefined, data: '{"choices":' }))).toContain('not JSON');
    expect(failure(() => readOpenAIStreamChunk({ event: undefined, data: '[1,2]' }))).toContain('not a JSON object');
    expect(failure(() => readOpenAIStreamChunk({ event: undefined, data: '{"error":{"message":"overloaded"}}' }))).toContain('overloaded');
    expect(failure(() => readOpenAIStreamChunk({ event: undefined, data: '{"error":"rate limited"}' }))).toContain('rate limited');
    expect(failure(() => readOpenAIStreamChunk({ event: undefined, data: '{"error":{"code":500}}' }))).toContain('reported an error mid-stream');
    expect(readOpenAIStreamChunk({ event: undefined, data: '{"error":null,"choices":[]}' })).toEqual({ error: null, choices: [] });
  });
});

describe('readTypedStreamEvent', () => {
  it('takes the type from the payload, else the SSE event name', () => {
    expect(readTypedStreamEvent({ event: 'ping', data: '{"type":"message_stop"}' }, true)).toEqual({ type: 'message_stop', payload: { type: 'message_stop' } });
    expect(readTypedStreamEvent({ event: 'ping', data: '{}' }, true)).toEqual({ type: 'ping', payload: {} });
    expect(readTypedStreamEvent({ event: 'ping', data: '' }, true)).toBeUndefined();
  });

  it('fails on an error event only when asked (a Responses reader turns it into response.failed itself)', () => {
    const error = { event: 'error', data: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' };
    expect(failure(() => readTypedStreamEvent(error, true))).toContain('Overloaded');
    expect(readTypedStreamEvent(error, false)?.type).toBe('error');
    expect(failure(() => readTypedStreamEvent({ event: 'message_start', data: 'nope' }, false))).toContain('stream event that is not JSON');
  });
});

describe('typeWrittenFirst', () => {
  it('reads the type an event starts with, and none from an event written otherwise', () => {
    expect(typeWrittenFirst('{"type":"response.output_text.delta","delta":"x"}')).toBe('response.output_text.delta');
    expect(typeWrittenFirst('{"type":"error"')).toBe('error');
    expect(typeWrittenFirst('{"delta":"x","type":"response.completed"}')).toBeUndefined();
    expect(typeWrittenFirst('{ "type":"response.completed"}')).toBeUndefined();
    expect(typeWrittenFirst('{"type":"response.compl\\u0065ted"}')).toBeUndefined();
    expect(typeWrittenFirst('{"type":"unterminated')).toBeUndefined();
  });
});
