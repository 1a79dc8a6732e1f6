import { describe, expect, it } from 'vitest';
import type { GatewayError } from '../../errors/gateway-error.js';
import { createJsonBodyParser } from './body-parser.js';

/** Runs the parser on `text` as a request body: the parsed value, or the refusal. */
function parse(text: string | Buffer): { value?: unknown; error?: GatewayError } {
  const parser = createJsonBodyParser();
  let outcome: { value?: unknown; error?: GatewayError } = {};
  const request = {} as Parameters<typeof parser>[0];
  parser(request, typeof text === 'string' ? Buffer.from(text) : text, (error, value) => {
    outcome = error === null ? { value } : { error: error as GatewayError };
  });
  return outcome;
}

describe('the JSON body parser', () => {
  it.each([
    ['__proto__', '{"model":"m","__proto__":{"isAdmin":true}}', "'__proto__'"],
    ['escaped __proto__', '{"model":"m","__pr\\u006fto__":{"isAdmin":true}}', "'__proto__'"],
    ['constructor.prototype', '{"model":"m","metadata":{"constructor":{"prototype":{"polluted":1}}}}', 'not valid JSON'],
    ['a repeated key', '{"model":"a","model":"b"}', "'model' more than once"],
  ])('refuses %s with 400 GW_INVALID_JSON', (_case, text, message) => {
    const { error } = parse(text);
    expect(error?.code).toBe('GW_INVALID_JSON');
    expect(error?.message).toContain(message);
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('accepts a constructor key that carries no prototype (a tool property named so)', () => {
    const text = '{"tools":[{"parameters":{"properties":{"constructor":{"type":"string"}}}}]}';
    expect(parse(text).value).toEqual(JSON.parse(text));
  });

  it('parses a body with a UTF-8 byte order mark like one without, and refuses malformed JSON', () => {
    const text = '{"model":"m","messages":[{"role":"user","content":"caf\u00e9"}]}';
    expect(parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])).value).toEqual(JSON.parse(text));
    expect(parse('{"model":').error?.code).toBe('GW_INVALID_JSON');
  });
});
