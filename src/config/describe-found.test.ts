import { describe, expect, it } from 'vitest';
import { couldBeSecret, describeFound, displayKeyName, likelyKey } from './describe-found.js';
import { ConfigSchema } from './schema.js';

/** Every property name anywhere in the schema: these must always be shown verbatim. */
function schemaKeyNames(schema: unknown, names = new Set<string>()): Set<string> {
  if (schema === null || typeof schema !== 'object') return names;
  const record = schema as Record<string, unknown>;
  const properties = record['properties'];
  if (properties !== null && typeof properties === 'object') for (const name of Object.keys(properties)) names.add(name);
  for (const value of Object.values(record)) schemaKeyNames(value, names);
  return names;
}

describe('describe-found: what a config problem may quote', () => {
  it('shows every schema key, provider-like names and common typos verbatim', () => {
    const names = [...schemaKeyNames(ConfigSchema)];
    expect(names.length).toBeGreaterThan(40);
    for (const name of [...names, 'openai2', 'claude-work', 'OpenAI', 'Bad Name', '__proto__', 'api_key', 'prot']) expect(couldBeSecret(name), name).toBe(false);
  });

  it('masks names shaped like keys, tokens and digests, keeping two characters and the length', () => {
    const secrets = ['sk-proj-AbCdEf0123456789', 'cpa_Q2hlY2tPbmx5VGhlTGVuZ3Ro', 'f3a9c2d4e5b60718293a4b5c6d7e8f90', 'AbCdEfGhIjKlMnOpQr', 'a'.repeat(40)];
    for (const secret of secrets) {
      expect(couldBeSecret(secret), secret).toBe(true);
      expect(displayKeyName(secret)).toBe(`‹masked: ${secret.slice(0, 2)}…, ${secret.length} characters›`);
    }
  });

  it('describes a found value, masking strings in secret settings and token-shaped strings', () => {
    expect(describeFound(70000, ['server', 'port'])).toBe('found 70000');
    expect(describeFound('lots', ['server', 'port'])).toBe('found "lots"');
    expect(describeFound([1, 2], ['server', 'host'])).toBe('found a list of 2');
    expect(describeFound({}, ['server'])).toBe('found a mapping');
    expect(describeFound('short', ['providers', 'a', 'api_keys'])).toBe('found a string ‹masked: sh…, 5 characters›');
    expect(describeFound('Zq0123456789abcdefXk', ['server', 'host'])).toBe('found a string ‹masked: Zq…, 20 characters›');
  });

  it('suggests a known key within two edits, and nothing for a distant one', () => {
    expect(likelyKey('api_key', ['dir', 'api_keys', 'encryption'])).toBe('api_keys');
    expect(likelyKey('prot', ['host', 'port'])).toBe('port');
    expect(likelyKey('PORT', ['host', 'port'])).toBe('port');
    expect(likelyKey('banana', ['host', 'port'])).toBeUndefined();
    expect(likelyKey('a', ['b'])).toBeUndefined();
  });
});
