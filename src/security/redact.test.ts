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

  it('lets no shape match a text of hex digits and dashes, which is why such a text (a UUID) skips them', () => {
    // If a shape for hex tokens is ever added, this fails: the hex fast path in redactText must go.
    // Longer than 64 characters, so these texts take the full path through every shape.
    const alphabet = '0123456789abcdefABCDEF-';
    for (let length = 65; length <= 300; length += 1) {
      let text = '';
      for (let index = 0; index < length; index += 1) text += alphabet[(index * 7 + length) % alphabet.length];
      expect(redactText(text)).toBe(text);
    }
    expect(redactText('0123abcd-ef45-6789-ABCD-EF0123456789')).toBe('0123abcd-ef45-6789-ABCD-EF0123456789');
  });

  it('still masks a registered secret inside a UUID-shaped text', () => {
    registerSecrets(['abcdef012345']);
    expect(redactText('01234567-89ab-cdef-0123-456789abcdef')).toBe('01234567-89ab-cdef-0123-456789abcdef');
    expect(redactText('00000000-0000-0000-0000-abcdef012345')).toBe('00000000-0000-0000-0000-***');
  });

  it('redacts query credentials in URLs only', () => {
    expect(redactUrl('/v1/chat/completions')).toBe('/v1/chat/completions');
    expect(redactUrl('/v1/models?key=abcdef123456')).toBe('/v1/models?key=***');
  });
});
