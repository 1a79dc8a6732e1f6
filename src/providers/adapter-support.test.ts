import { describe, expect, it } from 'vitest';
import { cleanUpstreamMessage, gatewayErrorForStatus, joinUrl, mergeHeaders, retryAfterSecondsFrom } from './adapter-support.js';

function mapStatus(status: number, headers: Record<string, string> = {}) {
  return gatewayErrorForStatus({ provider: 'p', status, headers, upstreamMessage: 'm', overloadedStatuses: [503] });
}

describe('joinUrl', () => {
  it('appends to the base path without losing its last segment or doubling slashes', () => {
    expect(joinUrl(new URL('https://h.test/v1'), 'chat/completions')).toBe('https://h.test/v1/chat/completions');
    expect(joinUrl(new URL('https://h.test/v1//'), '/chat/completions')).toBe('https://h.test/v1/chat/completions');
    expect(joinUrl(new URL('https://h.test'), 'v1/messages')).toBe('https://h.test/v1/messages');
  });
});

describe('retryAfterSecondsFrom', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delay-seconds, HTTP dates and retry-after-ms, case-insensitively', () => {
    expect(retryAfterSecondsFrom({ 'retry-after': '7' }, now)).toBe(7);
    expect(retryAfterSecondsFrom({ 'Retry-After': '0.2' }, now)).toBe(1);
    expect(retryAfterSecondsFrom({ 'retry-after': 'Wed, 01 Jan 2025 00:01:00 GMT' }, now)).toBe(60);
    expect(retryAfterSecondsFrom({ 'retry-after-ms': '250' }, now)).toBe(1);
  });

  it('ignores garbage and bounds absurd values to a day', () => {
    expect(retryAfterSecondsFrom({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterSecondsFrom({ 'retry-after': '-5' }, now)).toBeUndefined();
    expect(retryAfterSecondsFrom({}, now)).toBeUndefined();
    expect(retryAfterSecondsFrom({ 'retry-after': '9'.repeat(400) }, now)).toBe(86_400);
  });
});

describe('gatewayErrorForStatus', () => {
  it('maps the edges of the status table', () => {
    expect(mapStatus(408).code).toBe('GW_UPSTREAM_TIMEOUT');
    expect(mapStatus(408).retryable).toBe(true);
    expect(mapStatus(409)).toMatchObject({ code: 'GW_UPSTREAM_BAD_REQUEST', status: 409, retryable: false });
    expect(mapStatus(302)).toMatchObject({ code: 'GW_UPSTREAM_BAD_RESPONSE', retryable: false });
    expect(mapStatus(502, { 'retry-after': '3' })).toMatchObject({ code: 'GW_UPSTREAM_ERROR', retryable: true, retryAfterSeconds: 3 });
  });

  it('does not attach Retry-After to an auth failure', () => {
    expect(mapStatus(401, { 'retry-after': '3' }).retryAfterSeconds).toBeUndefined();
  });
});

describe('cleanUpstreamMessage and mergeHeaders', () => {
  it('flattens control characters so an upstream cannot forge log lines', () => {
    expect(cleanUpstreamMessage('line one\n\u001b[31mline two\r\n')).toBe('line one [31mline two');
  });

  it('rejects an extra header value with CR/LF', () => {
    expect(() => mergeHeaders({ 'x-a': 'ok\r\nx-b: evil' }, {})).toThrowError(/control characters/);
  });
});
