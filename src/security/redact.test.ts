import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { clearRegisteredSecrets, redactText, redactUrl, registerSecrets } from './redact.js';

const canary = () => `canary-${randomBytes(12).toString('hex')}`;

describe('redactText', () => {
  afterEach(() => clearRegisteredSecrets());

  it('masks a registered secret wherever it appears', () => {
    const secret = canary();
    registerSecrets([secret]);
    const out = redactText(`upstream said: Incorrect API key provided: ${secret}. Check ${secret}`);
    expect(out).not.toContain(secret);
    expect(out).toContain('Incorrect API key provided: ***');
  });

  it('masks the longer of two overlapping secrets whole', () => {
    const short = canary();
    const long = `${short}-suffix-more`;
    registerSecrets([short, long]);
    expect(redactText(`x ${long} y`)).toBe('x *** y');
  });

  it('ignores very short registered strings so logs stay readable', () => {
    registerSecrets(['abc']);
    expect(redactText('abcdef')).toBe('abcdef');
  });

  it.each([
    ['Authorization: Bearer abcdef123456', 'Bearer ***'],
    ['authorization=Basic dXNlcjpwYXNz', '***'],
    ['GET /v1beta/models?key=my-client-key-123&alt=sse', '?key=***&alt=sse'],
    ['{"access_token":"tok-123","refresh_token":"ref-456"}', '{"access_token":"***","refresh_token":"***"}'],
    ['x-api-key: some-key-value-1', 'x-api-key: ***'],
    ['X-Management-Key: some-key-value-2', 'X-Management-Key: ***'],
    ['{"x-management-key":"some-key-value-3"}', '{"x-management-key":"***"}'],
    ['key sk-abcdefghijklmnop', 'sk-***'],
    ['client key cpa_abcdefghijklmnopqrstuvwx', 'cpa_***'],
  ])('masks secret shapes in %s', (input, expected) => {
    const out = redactText(input);
    expect(out).toContain(expected);
  });

  it('leaves ordinary text alone', () => {
    const text = 'The model claude-test answered 200 in 12 ms';
    expect(redactText(text)).toBe(text);
  });

  it('redacts query credentials in URLs only', () => {
    expect(redactUrl('/v1/chat/completions')).toBe('/v1/chat/completions');
    expect(redactUrl('/v1/models?key=abcdef123456')).toBe('/v1/models?key=***');
  });
});
