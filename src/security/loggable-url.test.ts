import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loggableUrl } from './loggable-url.js';

/** A client-key-shaped canary made at test time. */
const canaryBody = randomBytes(24).toString('hex');
const canary = `cpa_${canaryBody}`;

describe('loggableUrl', () => {
  it('keeps a plain path as sent', () => {
    expect(loggableUrl('/v1/chat/completions')).toBe('/v1/chat/completions');
    expect(loggableUrl('/v1beta/models/gemini-pro%3AgenerateContent')).toBe('/v1beta/models/gemini-pro%3AgenerateContent');
  });

  it.each([
    ['plain', `/v1/models?key=${canary}`],
    ['percent-encoded name and underscore', `/v1/models?%6Bey=cpa%5F${canaryBody}`],
    ['fully percent-encoded value', `/v1/models?key=${[...canary].map((character) => `%${character.charCodeAt(0).toString(16)}`).join('')}`],
    ['an encoded & hiding a second parameter', `/v1/models?alt=sse%26key=${canary}`],
    ['unknown parameter value', `/v1/models?note=${canary}`],
    ['unknown parameter name', `/v1/models?${canary}=1`],
    ['in the path, percent-encoded', `/v1/models/cpa%5F${canaryBody}`],
  ])('never shows the key: %s', (_case, url) => {
    expect(loggableUrl(url)).not.toContain(canaryBody.slice(0, 12));
  });

  it('logs a key carrier as present, known parameters with values, and drops the rest', () => {
    expect(loggableUrl(`/v1beta/models/x:streamGenerateContent?alt=sse&%6Bey=${canary}&note=hello`)).toBe('/v1beta/models/x:streamGenerateContent?alt=sse&key=***');
    expect(loggableUrl('/v1/messages?beta=true')).toBe('/v1/messages?beta=true');
    expect(loggableUrl('/v1/models?note=hello')).toBe('/v1/models');
  });

  it('survives malformed percent-encoding', () => {
    expect(loggableUrl('/v1/%E0%A4%A?key=%')).toBe('/v1/%E0%A4%A?key=***');
  });
});
