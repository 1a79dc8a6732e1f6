import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors/gateway-error.js';
import { errorBody, errorShapeOf, streamErrorEvent } from './error-shape.js';

describe('error shape', () => {
  it('is decided by the path alone (and a header for the model list), before any body is read', () => {
    expect(errorShapeOf('/v1/chat/completions', {})).toBe('openai');
    expect(errorShapeOf('/v1/messages', {})).toBe('anthropic');
    expect(errorShapeOf('/v1/messages/count_tokens', {})).toBe('anthropic');
    expect(errorShapeOf('/v1beta/models/gemini-pro:generateContent', {})).toBe('gemini');
    expect(errorShapeOf('/v1/models', {})).toBe('openai');
    expect(errorShapeOf('/v1/models', { 'anthropic-version': '2023-06-01' })).toBe('anthropic');
    expect(errorShapeOf('/unknown', {})).toBe('openai');
    expect(errorShapeOf('/v1/responses', {})).toBe('openai-responses');
    expect(errorShapeOf('/v1/responsesx', {})).toBe('openai');
  });

  it('renders each shape as that API does, with our catalog code in the OpenAI shape', () => {
    const error = new GatewayError('GW_MODEL_NOT_FOUND');
    expect(errorBody('openai', error)).toMatchObject({ error: { type: expect.any(String), code: 'GW_MODEL_NOT_FOUND' } });
    expect(errorBody('anthropic', error)).toMatchObject({ type: 'error', error: { type: expect.any(String) } });
    expect(errorBody('gemini', error)).toMatchObject({ error: { code: 404, status: expect.any(String) } });
    expect(streamErrorEvent('anthropic', error)).toMatch(/^event: error\n/);
    expect(streamErrorEvent('openai', error)).toMatch(/^data: /);
    // Responses: the JSON error is OpenAI's; the stream ends with response.failed, which Codex CLI reads.
    expect(errorBody('openai-responses', error)).toEqual(errorBody('openai', error));
    expect(streamErrorEvent('openai-responses', error)).toMatch(/^event: response\.failed\ndata: \{"type":"response\.failed","response":\{.*"status":"failed","error":\{"code":"GW_MODEL_NOT_FOUND"/);
  });
});
