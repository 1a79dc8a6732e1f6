import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error.js';
import { createClientKeyAuthenticator } from './client-keys.js';
import { createManagementAuthenticator, extractManagementKey } from './management-keys.js';

const digestOf = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
const clientKey = `test-client-${randomBytes(16).toString('hex')}`;
const managementKey = `test-management-${randomBytes(16).toString('hex')}`;
const clientDigests = [{ id: 'alice', sha256: digestOf(clientKey) }];

function management(enabled: boolean, keys: { id: string; key: string }[] = [{ id: 'ops', key: managementKey }]) {
  return {
    enabled,
    allow_remote: false,
    keys: keys.map((key) => ({ id: key.id, role: 'admin' as const, key_sha256: digestOf(key.key).toString('hex') })),
    keys_file: '/nonexistent/cliproxy-test/management-keys.json',
    totp_file: '/nonexistent/cliproxy-test/management-totp.json',
    lockout: { max_failures: 5, window_seconds: 900, duration_seconds: 900 },
  };
}

describe('createManagementAuthenticator', () => {
  it('while disabled refuses every key, its own included', () => {
    const authenticator = createManagementAuthenticator(management(false), clientDigests, 'test.yaml');
    expect(authenticator.size).toBe(0);
    expect(authenticator.authenticate(managementKey)).toBeUndefined();
    expect(authenticator.authenticate(clientKey)).toBeUndefined();
  });

  it('enabled, returns a management principal for a management key and nothing for a client key', () => {
    const authenticator = createManagementAuthenticator(management(true), clientDigests, 'test.yaml');
    expect(authenticator.authenticate(managementKey)).toEqual({ id: 'ops', source: 'management-key', policy: { scoped: false, limited: false }, role: 'admin' });
    expect(authenticator.authenticate(clientKey)).toBeUndefined();
    expect(authenticator.authenticate(undefined)).toBeUndefined();
  });

  it('refuses a management key that is also a client key: one secret must not open both scopes', () => {
    const build = () => createManagementAuthenticator(management(true, [{ id: 'ops', key: managementKey }, { id: 'reused', key: clientKey }]), clientDigests, 'test.yaml');
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/management\.keys\[1\]\.key_sha256: is also a client key/);
    // The message names the place, never the key or its hash.
    expect(() => build()).not.toThrow(new RegExp(digestOf(clientKey).toString('hex')));
  });

  it('the client-key authenticator never returns a management principal', () => {
    expect(createClientKeyAuthenticator(clientDigests).authenticate(clientKey)?.source).toBe('client-key');
  });
});

describe('extractManagementKey', () => {
  it.each([
    ['Authorization: Bearer', { authorization: 'Bearer abc-123' }, 'abc-123'],
    ['X-Management-Key', { 'x-management-key': 'abc-123' }, 'abc-123'],
    ['a non-Bearer Authorization wins and is empty (no retry with the header)', { authorization: 'Basic abc', 'x-management-key': 'abc-123' }, ''],
    ['x-api-key is a client-key header', { 'x-api-key': 'abc-123' }, undefined],
    ['x-goog-api-key is a client-key header', { 'x-goog-api-key': 'abc-123' }, undefined],
  ])('%s', (_case, headers, expected) => {
    expect(extractManagementKey(headers)).toBe(expected);
  });
});
