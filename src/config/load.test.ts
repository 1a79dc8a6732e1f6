import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfigText } from './load.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const noEnv = {};

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-load-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function parse(text: string, env: Record<string, string | undefined> = noEnv) {
  return parseConfigText(text, { sourceName: 'test.yaml', baseDir: directory, env });
}

function problemsOf(action: () => unknown): readonly string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('runs on the embedded default with paths resolved against cwd', () => {
    const loaded = loadConfig({ env: noEnv, cwd: directory });
    expect(loaded.configPath).toBeUndefined();
    expect(loaded.baseDir).toBe(directory);
    expect(loaded.config.server.port).toBe(8317);
    expect(loaded.config.auth.dir).toBe(join(directory, 'data/auths'));
    expect(loaded.config.audit.file).toBe(join(directory, 'data/logs/audit.jsonl'));
  });

  it('reads a file, merges it over the defaults and resolves paths against its directory', () => {
    const file = join(directory, 'config.yaml');
    writeFileSync(file, 'server:\n  port: 9000\n  trusted_proxies: ["10.0.0.0/8"]\nauth:\n  dir: creds\n');
    const loaded = loadConfig({ path: 'config.yaml', cwd: directory, env: noEnv });
    expect(loaded.configPath).toBe(file);
    expect(loaded.config.server.port).toBe(9000);
    expect(loaded.config.server.host).toBe('127.0.0.1');
    expect(loaded.config.server.trusted_proxies).toEqual(['10.0.0.0/8']);
    expect(loaded.config.auth.dir).toBe(join(directory, 'creds'));
    expect(loaded.config.auth.client_keys_file).toBe(join(directory, 'data/client-keys.json'));
  });

  it('names a missing file', () => {
    expect(problemsOf(() => loadConfig({ path: join(directory, 'nope.yaml'), env: noEnv }))).toEqual(['file not found']);
  });

  it('replaces arrays instead of merging them', () => {
    const loaded = parse('server:\n  tls:\n    cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n');
    expect(loaded.config.server.tls.cipher_suites).toEqual(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']);
  });

  it('returns a deep-frozen result', () => {
    const loaded = parse('providers:\n  openai:\n    type: openai\n    base_url: https://api.openai.com/v1\n    api_keys: [test-upstream-key-0001]\n    models: [{ name: gpt-4o-mini }]\n');
    expect(Object.isFrozen(loaded)).toBe(true);
    expect(() => {
      (loaded.config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (loaded.config.providers['openai']!.models as unknown as string[]).push('x');
    }).toThrow(TypeError);
    expect(() => {
      (loaded.warnings as string[]).push('x');
    }).toThrow(TypeError);
  });
});

describe('validation reports every problem in one run', () => {
  it('unknown key, wrong type, bad CIDR, placeholder keys', () => {
    const text = [
      'server:',
      '  prot: 8080',
      '  port: "eighty"',
      '  trusted_proxies: ["10.0.0.0/33", "192.168.1.1", "fe80::/64", "not-an-ip"]',
      '  security:',
      '    ip_denylist: ["10.0.0.0/8x"]',
      'auth:',
      '  api_keys:',
      `    - { id: alice, key_sha256: "${sha256('changeme')}" }`,
      '    - { id: bob, key: "your-api-key" }',
      '    - { id: alice, key_sha256: "abc" }',
      'providers:',
      '  openai:',
      '    type: openai',
      '    base_url: https://api.openai.com/v1',
      '    api_keys: ["sk-..."]',
      '    models: [{ name: gpt-4o-mini }]',
      'logging: { level: loud }',
    ].join('\n');
    const problems = problemsOf(() => parse(text));
    expect(problems).toEqual(
      expect.arrayContaining([
        "server.prot: unknown key; did you mean 'port'?",
        expect.stringMatching(/^server\.port: expected integer; found /),
        "server.trusted_proxies[0]: '10.0.0.0/33' is not an IP address or CIDR range",
        "server.trusted_proxies[3]: 'not-an-ip' is not an IP address or CIDR range",
        "server.security.ip_denylist[0]: '10.0.0.0/8x' is not an IP address or CIDR range",
        'auth.api_keys[0].key_sha256: is the SHA-256 of a documentation placeholder',
        "auth.api_keys[1].key: is a documentation placeholder, generate one with 'cliproxyapi keys create'",
        'auth.api_keys[2].key_sha256: expected 64 hex characters (a SHA-256 digest)',
        "auth.api_keys[2].id: duplicate id 'alice' (also auth.api_keys[0])",
        'providers.openai.api_keys[0]: is a documentation placeholder, not an upstream key',
      ]),
    );
    expect(problems.some((problem) => problem.startsWith('logging.level: expected'))).toBe(true);
    expect(problems.some((problem) => problem.includes('192.168.1.1') || problem.includes('fe80'))).toBe(false);
  });

  it('the ConfigError message lists every problem on its own line', () => {
    try {
      parse('server: { prot: 1, port: -1 }\n');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const lines = (error as Error).message.split('\n');
      expect(lines[0]).toBe('invalid config test.yaml (2 problems):');
      expect(lines.slice(1)).toEqual(["  - server.prot: unknown key; did you mean 'port'?", expect.stringMatching(/^ {2}- server\.port: expected integer to be greater.*; found -1$/)]);
    }
  });

  it('plain client keys: accepted with a warning when long enough, refused when short', () => {
    const longKey = 'test-client-key-0001-abcdefghijklmnopqrstuvwxyz';
    const loaded = parse(`auth: { api_keys: [{ id: carol, key: "${longKey}" }] }\n`);
    expect(loaded.warnings.some((warning) => warning.startsWith('auth.api_keys[0].key: plain client key'))).toBe(true);
    expect(problemsOf(() => parse('auth: { api_keys: [{ id: carol, key: "test-client-key-short" }] }\n'))).toContain(
      'auth.api_keys[0].key: must be at least 32 characters',
    );
  });

  it('refuses the same key under two ids', () => {
    const key = 'test-client-key-0001-abcdefghijklmnopqrstuvwxyz';
    const problems = problemsOf(() => parse(`auth: { api_keys: [{ id: a, key: "${key}" }, { id: b, key_sha256: "${sha256(key)}" }] }\n`));
    expect(problems).toContain('auth.api_keys[1]: same key as auth.api_keys[0]');
  });

  it('model names and aliases are unique across providers', () => {
    const provider = (name: string, models: string) =>
      `  ${name}:\n    type: openai\n    base_url: http://127.0.0.1:9/v1\n    allow_private_network: true\n    api_keys: [test-upstream-key-0001]\n    models: ${models}\n`;
    const text = `providers:\n${provider('one', '[{ name: m1, alias: fast }]')}${provider('two', '[{ name: fast }, { name: m1 }]')}`;
    expect(problemsOf(() => parse(text))).toEqual([
      "providers.two.models[0]: model name or alias 'fast' is already used by providers.one.models[0]",
      "providers.two.models[1]: model name or alias 'm1' is already used by providers.one.models[0]",
    ]);
  });

  it('empty upstream api_keys is allowed (stored credentials may serve it: the start decides); bad provider names are refused', () => {
    const loaded = parse('providers:\n  claude:\n    type: anthropic\n    base_url: https://api.anthropic.com\n    api_keys: []\n    models: [{ name: claude-sonnet-4-5 }]\n');
    expect(loaded.warnings).toEqual([]);
    const problems = problemsOf(() => parse('providers:\n  Bad Name:\n    type: openai\n    base_url: https://x.test\n    api_keys: []\n    models: []\n'));
    expect(problems[0]).toMatch(/^providers\.Bad Name: provider name must match/);
  });

  it('union entries report the closest variant', () => {
    expect(problemsOf(() => parse('state: { backend: redis }\n'))).toEqual(['state.url: missing required key']);
    expect(problemsOf(() => parse('state: { backend: redis, url: "http://x" }\n'))).toEqual(['state.url: expected a redis:// or rediss:// URL']);
    expect([...problemsOf(() => parse('auth: { api_keys: [{ id: x, key_sha256: "00", extra: 1 }] }\n'))].sort()).toEqual([
      'auth.api_keys[0].extra: unknown key',
      'auth.api_keys[0].key_sha256: expected 64 hex characters (a SHA-256 digest)',
    ]);
  });

  it('TLS enabled requires readable cert and key files', () => {
    const problems = problemsOf(() => parse('server: { tls: { enabled: true, cert_file: missing.crt, key_file: missing.key } }\n'));
    expect(problems).toEqual([
      `server.tls.cert_file: cannot read ${join(directory, 'missing.crt')} (TLS is enabled)`,
      `server.tls.key_file: cannot read ${join(directory, 'missing.key')} (TLS is enabled)`,
    ]);
    writeFileSync(join(directory, 'tls.crt'), 'fake');
    writeFileSync(join(directory, 'tls.key'), 'fake');
    expect(parse('server: { tls: { enabled: true } }\n').config.server.tls.enabled).toBe(true);
  });

  it('refuses weak, unknown and misplaced cipher suites, each by its path and name', () => {
    const problems = problemsOf(() =>
      parse(
        'server:\n  tls:\n    cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_RC4_128_SHA, TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256, TLS_MADE_UP]\n' +
          '    cipher_suites_tls13: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n',
      ),
    );
    expect(problems).toEqual([
      "server.tls.cipher_suites[0]: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' is refused: CBC mode is open to padding-oracle attacks; use a GCM or ChaCha20-Poly1305 suite",
      "server.tls.cipher_suites[1]: 'TLS_RSA_WITH_RC4_128_SHA' is refused: RC4 is broken",
      "server.tls.cipher_suites[2]: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA' is refused: 3DES/DES has a 64-bit block (Sweet32)",
      "server.tls.cipher_suites[3]: 'TLS_RSA_WITH_AES_128_GCM_SHA256' is refused: no ECDHE key exchange (no forward secrecy)",
      "server.tls.cipher_suites[4]: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256' is refused: no ECDHE key exchange (no forward secrecy)",
      "server.tls.cipher_suites[5]: 'TLS_AES_128_GCM_SHA256' is a TLS 1.3 suite: list it under server.tls.cipher_suites_tls13",
      expect.stringMatching(/^server\.tls\.cipher_suites\[6\]: 'TLS_MADE_UP' is not a known suite; accepted: TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, /),
      "server.tls.cipher_suites_tls13[0]: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' is a TLS 1.2 suite: list it under server.tls.cipher_suites",
    ]);
  });

  it('egress guard: a non-public IP literal in base_url or oauth.token_url is refused, naming the key, unless allowed', () => {
    const provider = (baseUrl: string, extra = '') => `providers:\n  p:\n    type: openai\n    base_url: ${baseUrl}\n    api_keys: []\n    models: []\n${extra}`;
    expect(problemsOf(() => parse(provider('http://169.254.169.254/latest')))).toEqual([
      'providers.p.base_url: 169.254.169.254 is the cloud metadata endpoint; the egress guard refuses it unless providers.p.allow_private_network is true',
    ]);
    expect(problemsOf(() => parse(provider('http://[::ffff:169.254.169.254]/')))).toEqual([
      'providers.p.base_url: [::ffff:a9fe:a9fe] is the cloud metadata endpoint (IPv4 169.254.169.254 inside IPv6); the egress guard refuses it unless providers.p.allow_private_network is true',
    ]);
    expect(problemsOf(() => parse(provider('https://api.openai.com/v1', '    oauth: { token_url: "http://10.0.0.5/token" }\n')))).toEqual([
      'providers.p.oauth.token_url: 10.0.0.5 is a private address; the egress guard refuses it unless providers.p.allow_private_network is true',
    ]);
    expect(problemsOf(() => parse(provider('https://api.openai.com/v1', '    oauth: { authorize_url: "http://127.0.0.1:9/oauth/authorize" }\n')))).toEqual([
      'providers.p.oauth.authorize_url: 127.0.0.1 is a loopback address; the egress guard refuses it unless providers.p.allow_private_network is true',
    ]);
    expect(problemsOf(() => parse(provider('https://api.openai.com/v1', '    oauth: { scope: "a  b", redirect_port: 70000 }\n'))).join('\n')).toMatch(/oauth\.scope[\s\S]*oauth\.redirect_port|oauth\.redirect_port[\s\S]*oauth\.scope/);
    expect(parse(provider('http://127.0.0.1:1234/v1', '    allow_private_network: true\n')).config.providers['p']?.allow_private_network).toBe(true);
    expect(parse(provider('http://localhost:1234/v1')).config.providers['p']?.base_url).toBe('http://localhost:1234/v1'); // a name: checked at connect
  });

  it('refuses TLS 1.1 and an empty suite list for the minimum version', () => {
    expect(problemsOf(() => parse("server: { tls: { min_version: '1.1' } }\n"))).toContain(
      'server.tls.min_version: TLS 1.1 is refused (BEAST, POODLE-era ciphers, SHA-1 handshakes); use "1.2" or "1.3"',
    );
    expect(problemsOf(() => parse("server: { tls: { min_version: '1.2', cipher_suites: [] } }\n"))).toEqual([
      'server.tls.cipher_suites: empty while min_version is "1.2": set min_version "1.3" to serve TLS 1.3 only',
    ]);
    expect(parse("server: { tls: { min_version: '1.3', cipher_suites: [] } }\n").config.server.tls.min_version).toBe('1.3');
  });

  it('accepts alert rules now that the alert engine is built (the last layer the loader refused)', () => {
    expect(parse("alerts: [{ name: a, condition: 'auth_failures > 1', duration: 1m, action: block_ip }]\n").config.alerts).toHaveLength(1);
  });

  it('accepts management.enabled, reads viewer as auditor with a warning, and refuses allow_remote without TLS', () => {
    const digest = 'ab'.repeat(32);
    const loaded = parse(`management: { enabled: true, keys: [{ id: ops, role: viewer, key_sha256: "${digest}" }] }\n`);
    expect(loaded.config.management.enabled).toBe(true);
    expect(loaded.warnings).toContain("management.keys[0].role: 'viewer' is read as 'auditor' (read-only); write 'auditor'");
    expect(problemsOf(() => parse('management: { enabled: true, allow_remote: true }\n'))).toEqual([
      'management.allow_remote: requires server.tls.enabled: true (management keys must not cross a network in clear); keep it false to reach the API from loopback only',
    ]);
    expect(problemsOf(() => parse('management: { keys: [{ id: ops, role: root, key_sha256: "' + digest + '" }] }\n')).join('\n')).toMatch(/management\.keys\.0\.role|management\.keys\[0\]\.role/);
  });

  it('accepts the IP lists, per-provider limits and the per-IP limit switch now that they are built', () => {
    const loaded = parse(
      [
        'server:',
        '  trusted_proxies: [10.0.0.0/8]',
        '  security: { ip_allowlist: { enabled: true, allowed_ips: [10.0.0.0/8] }, ip_denylist: [192.0.2.1], rate_limit: { enabled: false } }',
        'providers:',
        '  p: { type: openai, base_url: "http://127.0.0.1:1/v1", allow_private_network: true, api_keys: [], models: [{ name: m }], rate_limit: { requests_per_minute: 60, tokens_per_minute: 10000 } }',
        '',
      ].join('\n'),
    );
    expect(loaded.config.server.security.rate_limit).toEqual({ enabled: false, requests_per_second: 10, burst: 20 });
    expect(loaded.config.providers['p']?.rate_limit).toEqual({ requests_per_minute: 60, tokens_per_minute: 10000 });
  });

  it("refuses the spec's 'deny 0.0.0.0/0 to block all except allowed' example: the denylist is checked first and locks everyone out", () => {
    const problems = problemsOf(() =>
      parse('server: { security: { ip_allowlist: { enabled: true, allowed_ips: [10.0.0.0/8, 192.168.1.100] }, ip_denylist: [0.0.0.0/0] } }\n'),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^server\.security\.ip_denylist: 0\.0\.0\.0\/0 covers every address of server\.security\.ip_allowlist\.allowed_ips: the denylist is checked before the allowlist, so every client would be refused; to admit only the allowed addresses, remove the covering denylist entry/),
    ]);
    // Without the allowlist, denying all of IPv4 is the same lock-out.
    expect(problemsOf(() => parse('server: { security: { ip_denylist: [0.0.0.0/0] } }\n'))).toEqual([expect.stringContaining("'0.0.0.0/0' refuses every IPv4 client")]);
    // Several deny entries covering the allowlist between them, IPv6 and mapped forms included.
    expect(
      problemsOf(() => parse('server: { security: { ip_allowlist: { enabled: true, allowed_ips: ["10.1.0.0/16", "2001:db8::/48"] }, ip_denylist: ["::ffff:10.0.0.0/104", "2001:db8::/32"] } }\n')),
    ).toHaveLength(1);
    expect(problemsOf(() => parse('server: { security: { ip_allowlist: { enabled: true, allowed_ips: [] } } }\n'))).toEqual([expect.stringContaining('every client would be refused')]);
  });

  it('warns about an allowlist entry inside a denylist entry, and accepts a denylist that carves a hole', () => {
    const loaded = parse('server: { security: { ip_allowlist: { enabled: true, allowed_ips: [10.0.0.0/8, 192.168.1.100] }, ip_denylist: [10.9.0.0/16, 192.168.1.0/24] } }\n');
    expect(loaded.warnings).toEqual([expect.stringContaining("'192.168.1.100' is inside denylist entry '192.168.1.0/24' and will never be admitted")]);
  });

  it('warns about a non-loopback bind without TLS', () => {
    expect(parse('server: { host: 0.0.0.0 }\n').warnings).toEqual([expect.stringContaining('server.host: listening on 0.0.0.0 without TLS')]);
  });
});

describe('YAML parsing', () => {
  it('rejects duplicate keys with their line', () => {
    const problems = problemsOf(() => parse('server:\n  port: 1\n  port: 2\n'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^line 3, column 3: .*unique.*DUPLICATE_KEY/);
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let level = 1; level < 9; level += 1) {
      const previous = String.fromCharCode(96 + level);
      const name = String.fromCharCode(97 + level);
      lines.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(',')}]`);
    }
    const problems = problemsOf(() => parse(lines.join('\n')));
    expect(problems[0]).toMatch(/YAML could not be expanded/);
  });

  it('treats an empty file as "all defaults" and a scalar document as an error', () => {
    expect(parse('').config.server.port).toBe(8317);
    expect(problemsOf(() => parse('just a string\n'))).toEqual(['(top level): expected a mapping of config sections']);
  });

  it('keeps __proto__ an ordinary (unknown) key', () => {
    expect(problemsOf(() => parse('server:\n  __proto__: { polluted: true }\n'))).toEqual(['server.__proto__: unknown key']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('reports syntax errors without echoing the source line', () => {
    const problems = problemsOf(() => parse('server:\n  port: [1, 2\nsecret_here: test-upstream-key-0001\n'));
    expect(problems.join('\n')).not.toContain('test-upstream-key-0001');
  });
});
