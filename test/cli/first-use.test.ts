import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliCaptured, type CliRun as Run } from '../helpers/cli-in-process.js';
import { repositoryRoot } from '../helpers/binary-process.js';

/**
 * The first-use defects of issue #8, each as a user meets it through the CLI (in-process; the
 * built binary is exercised in test/e2e/). Each test failed before its fix.
 */
let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-first-use-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}): Promise<Run> => runCliCaptured(args, directory, { env });

/** Every path under `root`, relative, sorted: "writes nothing" is checked as "this list did not change". */
function tree(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).sort();
}

describe('first use: CLI errors and status commands', () => {
  it("keys revoke of an unknown id: 'error:' prefix like every other error, its code, exit 1", async () => {
    const result = await run(['keys', 'revoke', 'bob']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: no client key 'bob'\ncode: CLIENT_KEY_NOT_FOUND (docs/errors.md)\n");
  });

  it('creds list under the wrong encryption key: says how many files are unreadable and exits 1', async () => {
    const goFile = join(directory, 'claude-a.json');
    writeFileSync(goFile, JSON.stringify({ type: 'claude', access_token: 'test-access-token-first-use-0001' }), { mode: 0o600 });
    expect((await run(['creds', 'import', goFile])).code).toBe(0);
    expect((await run(['creds', 'list'])).code).toBe(0);

    const wrongKey = randomBytes(32).toString('base64');
    const listed = await run(['creds', 'list'], { CLIPROXY_ENCRYPTION_KEY: wrongKey });
    expect(listed.code).toBe(1);
    expect(listed.stdout).not.toContain('no stored credentials');
    expect(listed.stderr).toContain(`error: 1 of 1 credential file(s) in ${join(directory, 'data', 'auths')} cannot be read`);
    expect(listed.stderr).not.toContain(wrongKey);
  });

  it('encryption status on a fresh directory writes nothing (no data/, no key), with or without an env key', async () => {
    const status = await run(['encryption', 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('key source: none yet');
    expect(status.stdout).toContain('credential files: 0');
    expect(tree(directory)).toEqual([]);

    const withEnvironmentKey = await run(['encryption', 'status'], { CLIPROXY_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    expect(withEnvironmentKey.code, withEnvironmentKey.stderr).toBe(0);
    expect(withEnvironmentKey.stdout).toContain('key source: env');
    expect(tree(directory)).toEqual([]);
  });
});

/** A secret typed where a key name goes: generated per run, token-shaped, matching no redactor pattern. */
function canarySecret(): string {
  return `Zq${randomBytes(24).toString('hex')}Xk`;
}

describe('first use: config check', () => {
  async function check(text: string): Promise<Run> {
    writeFileSync(join(directory, 'config.yaml'), text, { mode: 0o600 });
    return run(['config', 'check', 'config.yaml']);
  }

  it('lists a refused cipher suite together with a schema error, in one pass', async () => {
    const result = await check('server:\n  tls: { cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA] }\n  prot: 1\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('server.prot: unknown key');
    expect(result.stderr).toContain("server.tls.cipher_suites[0]: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' is refused: CBC mode");
    expect(result.stderr).toContain('code: CONFIG_INVALID (docs/errors.md)');
  });

  it('reports an over-indented key at its own line, once', async () => {
    const result = await check('server:\n  host: 127.0.0.1\n   port: 8317\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('(1 problem)');
    expect(result.stderr).toContain('line 3, column 4: this key is indented deeper than the key above it');
    expect(result.stderr).not.toContain('line 2');
    expect(result.stderr).toContain('code: CONFIG_YAML_INVALID');
  });

  it('suggests the likely key for an unknown one and shows the value found for a wrong type', async () => {
    const result = await check('server:\n  prot: 1\n  port: lots\nauth:\n  api_key: []\n');
    expect(result.stderr).toContain("server.prot: unknown key; did you mean 'port'?");
    expect(result.stderr).toContain("auth.api_key: unknown key; did you mean 'api_keys'?");
    expect(result.stderr).toContain('server.port: expected integer; found "lots"');
  });

  it('never quotes a secret typed as a YAML key or as a wrong-typed value: path and a masked form instead', async () => {
    const asKey = canarySecret();
    const asValue = canarySecret();
    const asProviderName = canarySecret();
    const result = await check(
      'auth:\n  api_keys:\n    - id: ops\n' +
        `      ${asKey}: true\n` +
        `providers:\n  oai:\n    type: openai\n    base_url: http://127.0.0.1:9/v1\n    allow_private_network: true\n    api_keys: ${asValue}\n    models: []\n` +
        `  ${asProviderName}:\n    type: openai\n    base_url: http://127.0.0.1:9/v1\n    allow_private_network: true\n    api_keys: []\n    models: []\n`,
    );
    expect(result.code).toBe(1);
    for (const secret of [asKey, asValue, asProviderName]) {
      expect(result.stderr).not.toContain(secret);
      expect(result.stderr).not.toContain(secret.slice(0, 6));
    }
    expect(result.stderr).toContain(`auth.api_keys[0].‹masked: Zq…, ${asKey.length} characters›: unknown key that looks like a secret`);
    expect(result.stderr).toContain(`providers.oai.api_keys: expected array; found a string ‹masked: Zq…, ${asValue.length} characters›`);
    expect(result.stderr).toContain(`providers.‹masked: Zq…, ${asProviderName.length} characters›: provider name must match`);
  });

  it('refuses a config path that is not a regular file (/dev/null, a directory)', async () => {
    const deviceResult = await run(['config', 'check', '/dev/null']);
    expect(deviceResult.code).toBe(1);
    expect(deviceResult.stderr).toContain('/dev/null (1 problem)');
    expect(deviceResult.stderr).toContain('is not a regular file (a character device)');
    expect(deviceResult.stderr).toContain('code: CONFIG_UNREADABLE');
    const directoryResult = await run(['keys', 'list', '-c', directory]);
    expect(directoryResult.code).toBe(1);
    expect(directoryResult.stderr).toContain('is not a regular file (a directory)');
  });
});

describe('first use: what the repository tells a new user', () => {
  it('--help and package.json claim only the wire formats that exist (no Gemini yet)', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('OpenAI and Anthropic wire formats');
    // `login gemini` names an account to sign in to (its OAuth tokens), not a wire format.
    expect(help.stdout.split('\n').filter((line) => !/\blogin\b/.test(line)).join('\n')).not.toMatch(/gemini/i);
    const manifest = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as { description: string };
    expect(manifest.description).not.toMatch(/gemini/i);
  });

  it('the README runs the CLI through npx (nothing puts a bare cliproxyapi on PATH) and says how to install it', () => {
    const readme = readFileSync(join(repositoryRoot, 'README.md'), 'utf8');
    const bare = [...readme.matchAll(/(?<!npx )(?<![\w/.-])cliproxyapi (?:serve|config|keys|creds|encryption|login|fingerprint|version|--help)\b/g)].map((match) => match[0]);
    expect(bare).toEqual([]);
    expect(readme).toContain('npx cliproxyapi --help');
    expect(readme).toContain('npm install -g .');
  });

  it('.gitignore keeps secret-holding local files out of commits (config.yaml anywhere, keyring, client keys)', () => {
    for (const path of ['config.yaml', 'deploy/local/config.yaml', 'encryption.key', 'client-keys.json', 'data/auths/x.json']) {
      // check-ignore exits 0 when the path is ignored (it need not exist); execFileSync throws otherwise.
      expect(() => execFileSync('git', ['check-ignore', '--quiet', '--no-index', path], { cwd: repositoryRoot }), path).not.toThrow();
    }
  });
});
