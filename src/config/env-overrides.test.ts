import { describe, expect, it } from 'vitest';
import { applyEnvOverrides, envOverrideLeaves } from './env-overrides.js';
import { ConfigError, parseConfigText } from './load.js';

function load(env: Record<string, string | undefined>, text = '') {
  return parseConfigText(text, { sourceName: 'env-test', baseDir: '/tmp', env });
}

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('env override leaves', () => {
  it('addresses keys that contain underscores, and skips records and object unions', () => {
    expect(envOverrideLeaves.get('CLIPROXY_SERVER_BODY_LIMIT_BYTES')).toEqual({ path: ['server', 'body_limit_bytes'], type: 'integer' });
    expect(envOverrideLeaves.get('CLIPROXY_SERVER_SECURITY_RATE_LIMIT_BURST')?.type).toBe('integer');
    expect(envOverrideLeaves.get('CLIPROXY_LOGGING_LEVEL')?.type).toBe('string');
    expect(envOverrideLeaves.get('CLIPROXY_SERVER_TRUSTED_PROXIES')?.type).toBe('json-array');
    expect([...envOverrideLeaves.keys()].some((name) => name.startsWith('CLIPROXY_PROVIDERS'))).toBe(false);
    expect([...envOverrideLeaves.keys()].some((name) => name.startsWith('CLIPROXY_STATE'))).toBe(false);
  });
});

describe('applyEnvOverrides through parseConfigText', () => {
  it('coerces integers, booleans, strings and JSON arrays by the schema type', () => {
    const loaded = load({
      CLIPROXY_SERVER_PORT: '9000',
      CLIPROXY_SERVER_BODY_LIMIT_BYTES: ' 2048 ',
      CLIPROXY_LOGGING_LEVEL: 'debug',
      CLIPROXY_LOGGING_ACCESS_LOG: 'FALSE',
      CLIPROXY_SERVER_TRUSTED_PROXIES: '["10.0.0.0/8", "::1"]',
      CLIPROXY_AUDIT_ENABLED: 'true',
    });
    expect(loaded.config.server.port).toBe(9000);
    expect(loaded.config.server.body_limit_bytes).toBe(2048);
    expect(loaded.config.logging).toEqual({ level: 'debug', access_log: false });
    expect(loaded.config.server.trusted_proxies).toEqual(['10.0.0.0/8', '::1']);
    expect(loaded.warnings).toEqual([]);
  });

  it('overrides win over the file', () => {
    expect(load({ CLIPROXY_SERVER_PORT: '9001' }, 'server: { port: 9000 }\n').config.server.port).toBe(9001);
  });

  it('names the variable for every bad value, without echoing it', () => {
    const problems = problemsOf({
      CLIPROXY_SERVER_PORT: '80.5',
      CLIPROXY_UPSTREAM_MAX_ATTEMPTS: 'three',
      CLIPROXY_AUDIT_ENABLED: 'yes',
      CLIPROXY_SERVER_TRUSTED_PROXIES: '10.0.0.0/8',
      CLIPROXY_SERVER_SECURITY_IP_DENYLIST: '{"a":1}',
    });
    expect([...problems].sort()).toEqual([
      "CLIPROXY_AUDIT_ENABLED: expected 'true' or 'false'",
      'CLIPROXY_SERVER_PORT: expected an integer',
      'CLIPROXY_SERVER_SECURITY_IP_DENYLIST: expected a JSON array, e.g. ["10.0.0.0/8"]',
      'CLIPROXY_SERVER_TRUSTED_PROXIES: expected a JSON array, e.g. ["10.0.0.0/8"]',
      'CLIPROXY_UPSTREAM_MAX_ATTEMPTS: expected an integer',
    ]);
  });

  it('names the variable when the schema or a semantic check refuses the coerced value', () => {
    expect(problemsOf({ CLIPROXY_SERVER_PORT: '70000' })).toEqual(['server.port: expected integer to be less or equal to 65535; found 70000 (set by CLIPROXY_SERVER_PORT)']);
    expect(problemsOf({ CLIPROXY_LOGGING_LEVEL: 'loud' })[0]).toMatch(/^logging\.level: expected one of .*\(set by CLIPROXY_LOGGING_LEVEL\)$/);
    expect(problemsOf({ CLIPROXY_SERVER_TRUSTED_PROXIES: '["10.0.0.0/33"]' })).toEqual([
      "server.trusted_proxies[0]: '10.0.0.0/33' is not an IP address or CIDR range",
    ]);
  });

  it('ignores reserved variables and warns about unknown CLIPROXY_ variables', () => {
    const loaded = load({ CLIPROXY_ENCRYPTION_KEY: 'whatever', CLIPROXY_CONFIG: '/etc/x.yaml', CLIPROXY_SERVER_PROT: '1', OTHER: 'x' });
    expect(loaded.warnings).toEqual(['CLIPROXY_SERVER_PROT: matches no config path; ignored']);
  });

  it('reports a parent that the file set to a non-mapping', () => {
    const target: Record<string, unknown> = { server: 'oops' };
    expect(applyEnvOverrides(target, { CLIPROXY_SERVER_PORT: '1' }).problems).toEqual([
      'CLIPROXY_SERVER_PORT: cannot apply, server is not a mapping in the config file',
    ]);
  });
});
