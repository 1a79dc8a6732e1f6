import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText, type LoadedConfig } from '../config/load.js';
import { collectClientKeys, createClientKey, createClientKeyAuthenticator, listClientKeys, updateClientKey } from './client-keys.js';
import { compileKeyPolicy, describeScope, policyAllows } from './key-policy.js';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-key-policy-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

function configWith(text = ''): LoadedConfig {
  return parseConfigText(text, { sourceName: 'key-policy-test', baseDir: directory, env: {} });
}

describe('compileKeyPolicy', () => {
  it('compiles wildcards once: a model passes by its requested or upstream name, a provider by its name', () => {
    const policy = compileKeyPolicy('team', { models: ['claude-*', 'gpt-4o'], providers: ['ant*', 'oai'] });
    expect(policy.scoped).toBe(true);
    expect(policy.limited).toBe(false);
    expect(policyAllows(policy, 'anthropic', 'claude-sonnet-4-5', 'claude-sonnet-4-5')).toBe(true);
    expect(policyAllows(policy, 'anthropic', 'sonnet', 'claude-sonnet-4-5')).toBe(true);
    expect(policyAllows(policy, 'oai', 'gpt-4o', 'gpt-4o')).toBe(true);
    expect(policyAllows(policy, 'oai', 'gpt-4o-mini', 'gpt-4o-mini')).toBe(false);
    expect(policyAllows(policy, 'gemini', 'claude-x', 'claude-x')).toBe(false);
    // Pattern text is literal except `*`: a dot or a regex metacharacter cannot widen the scope.
    expect(policyAllows(compileKeyPolicy('dots', { models: ['gpt.4'] }), 'oai', 'gpt-4', 'gpt-4')).toBe(false);
    expect(policyAllows(compileKeyPolicy('anchors', { models: ['claude'] }), 'oai', 'claude-evil', 'claude-evil')).toBe(false);
    expect(describeScope(policy)).toBe('models claude-*, gpt-4o; providers ant*, oai');
  });

  it('marks a key limited only with a rate limit, a concurrency cap or a budget', () => {
    expect(compileKeyPolicy('a', { metadata: { team: 'x' }, expires_at: '2030-01-01T00:00:00Z' }).limited).toBe(false);
    expect(compileKeyPolicy('b', { rate_limit: { requests_per_minute: 5 } }).limited).toBe(true);
    expect(compileKeyPolicy('c', { max_concurrency: 2 }).limited).toBe(true);
    expect(compileKeyPolicy('d', { budgets: { tokens_per_day: 10 } }).limited).toBe(true);
    expect(compileKeyPolicy('e', { rate_limit: {} }).limited).toBe(false);
  });

  it('refuses a date that does not exist, empty lists and a wait without a cap, naming the key', () => {
    expect(() => compileKeyPolicy('x', { expires_at: '2027-02-30T00:00:00Z' })).toThrow(/client key 'x': expires_at/);
    expect(() => compileKeyPolicy('x', { expires_at: '2027-13-01T00:00:00Z' })).toThrow(/expires_at/);
    expect(compileKeyPolicy('x', { expires_at: '2027-02-28T23:30:00-05:00' }).expiresAt).toBe(Date.parse('2027-03-01T04:30:00Z'));
    expect(() => compileKeyPolicy('x', { models: [] })).toThrow(/models is empty/);
    expect(() => compileKeyPolicy('x', { providers: [] })).toThrow(/providers is empty/);
    expect(() => compileKeyPolicy('x', { concurrency_wait_ms: 100 })).toThrow(/needs max_concurrency/);
  });
});

describe('policy fields in both sources', () => {
  it('config keys carry their compiled policy into the principal', () => {
    const loaded = configWith(`auth: { api_keys: [{ id: team, key_sha256: "${sha256Hex('team-key')}", models: ["claude-*"], budgets: { tokens_per_day: 100 } }] }\n`);
    const principal = createClientKeyAuthenticator(collectClientKeys(loaded)).authenticate('team-key');
    expect(principal?.policy.models?.patterns).toEqual(['claude-*']);
    expect(principal?.policy.budgets).toEqual({ tokens_per_day: 100 });
  });

  it('refuses unknown or out-of-range fields in the config, naming the path', () => {
    expect(() => configWith(`auth: { api_keys: [{ id: team, key_sha256: "${sha256Hex('k')}", modles: ["x"] }] }\n`)).toThrow(ConfigError);
    expect(() => configWith(`auth: { api_keys: [{ id: team, key_sha256: "${sha256Hex('k')}", max_concurrency: 0 }] }\n`)).toThrow(/max_concurrency/);
    expect(() => configWith(`auth: { api_keys: [{ id: team, key_sha256: "${sha256Hex('k')}", expires_at: "tomorrow" }] }\n`)).toThrow(/expires_at/);
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`label${index}`, 'x']));
    expect(() => configWith(`auth: { api_keys: [{ id: team, key_sha256: "${sha256Hex('k')}", metadata: ${JSON.stringify(tooMany)} }] }\n`)).toThrow(/metadata/);
  });

  it('a config date that does not exist is a ConfigError naming the key', () => {
    const loaded = configWith(`auth: { api_keys: [{ id: team, key_sha256: "${sha256Hex('k')}", expires_at: "2027-02-30T00:00:00Z" }] }\n`);
    expect(() => collectClientKeys(loaded)).toThrow(/client key 'team': expires_at/);
  });

  it('a bad entry in the key file names the entry', () => {
    const loaded = configWith();
    createClientKey(loaded, 'good');
    createClientKey(loaded, 'broken');
    const file = loaded.config.auth.client_keys_file;
    const stored = JSON.parse(JSON.stringify({ v: 1, keys: listClientKeys(loaded) })) as { keys: Record<string, unknown>[] };
    const entries = stored.keys.map((key) => ({ id: key['id'], key_sha256: sha256Hex(String(key['id'])), created_at: key['created_at'] }));
    writeFileSync(file, JSON.stringify({ v: 1, keys: [entries[0], { ...entries[1], max_concurrency: -1 }] }), { mode: 0o600 });
    expect(() => collectClientKeys(loaded)).toThrow(/\/keys\/1\/max_concurrency \(key 'broken'\)/);
  });

  it('create and update check fields with the same rules; null removes a field; list shows fields, never hashes', () => {
    const loaded = configWith();
    expect(() => createClientKey(loaded, 'x', { models: [] })).toThrow(/models is empty/);
    expect(() => createClientKey(loaded, 'x', { rate_limit: { requests_per_minute: 0 } })).toThrow(/rate_limit/);
    expect(() => createClientKey(loaded, 'x', { unknown: 1 } as never)).toThrow(/unknown client key field 'unknown'/);
    createClientKey(loaded, 'ci', { budgets: { tokens_per_day: 1000 }, expires_at: '2020-01-01T00:00:00Z' });
    expect(listClientKeys(loaded)[0]).toMatchObject({ id: 'ci', status: 'expired', budgets: { tokens_per_day: 1000 } });
    expect(updateClientKey(loaded, 'ci', { expires_at: null, disabled: true })).toBe('updated');
    const [listed] = listClientKeys(loaded);
    expect(listed).toMatchObject({ id: 'ci', status: 'disabled', disabled: true });
    expect(listed).not.toHaveProperty('expires_at');
    expect(JSON.stringify(listed)).not.toMatch(/[0-9a-f]{64}/);
    expect(updateClientKey(loaded, 'nobody', {})).toBe('not-found');
  });
});
