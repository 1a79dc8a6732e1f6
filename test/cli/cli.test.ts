import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliCaptured, type CliRun as Run } from '../helpers/cli-in-process.js';
import type { CliIo } from '../../src/cli/cli-io.js';

const configKey = 'test-client-key-0001-abcdefghijklmnopqrstuvwxyz';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-cli-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

const run = (args: string[], extra: Partial<CliIo> = {}): Promise<Run> => runCliCaptured(args, directory, extra);

function expectNoStackTrace(result: Run): void {
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

describe('cliproxyapi CLI (in-process)', () => {
  it('prints help with examples', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('serve');
    expect(result.stdout).toContain('keys');
    expect(result.stdout).toContain('$ cliproxyapi keys create --id alice');
    const keysHelp = await run(['keys', 'create', '--help']);
    expect(keysHelp.stdout).toContain('--id <name>');
  });

  it('prints the version from package.json', async () => {
    const expected = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(await run(['version'])).toEqual({ code: 0, stdout: `cliproxyapi ${expected}\n`, stderr: '' });
    expect((await run(['--version'])).stdout).toBe(`${expected}\n`);
  });

  it('keys create → list → revoke in a temp dir', async () => {
    const created = await run(['keys', 'create', '--id', 'alice']);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^cpa_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain('cannot be shown again');
    const keyFile = readFileSync(join(directory, 'data', 'client-keys.json'), 'utf8');
    expect(keyFile).not.toContain(key);

    const duplicate = await run(['keys', 'create', '--id', 'alice']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/^error: a client key with id 'alice' already exists/);

    const listed = await run(['keys', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+SOURCE\s+STATUS\s+SCOPE\s+EXPIRES\s+LIMITS\s+USED DAY\/MONTH\s+CREATED\nalice\s+file\s+active\s+all\s+-\s+-\s+0\/0\s+\d{4}-/);
    expect(listed.stdout).not.toContain(key);

    expect(await run(['keys', 'revoke', 'alice'])).toEqual({ code: 0, stdout: "revoked client key 'alice'\n", stderr: '' });
    const again = await run(['keys', 'revoke', 'alice']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe("error: no client key 'alice'\ncode: CLIENT_KEY_NOT_FOUND (docs/errors.md)\n");
    expect((await run(['keys', 'list'])).stdout).toContain('no client keys');
  });

  it('keys create and update take the governance fields; list shows scope, expiry and limits; bad fields are refused with a code', async () => {
    const created = await run(['keys', 'create', '--id', 'ci', '--models', 'claude-*,gpt-4o', '--tokens-per-day', '2000', '--max-concurrency', '2', '--expires-in', '30d', '--metadata', 'team=search']);
    expect(created.code).toBe(0);
    const listed = await run(['keys', 'list']);
    expect(listed.stdout).toMatch(/ci\s+file\s+active\s+models claude-\*,gpt-4o\s+\d{4}-\d{2}-\d{2}T\S+\s+2 at once, 2000\/day/);
    expect(await run(['keys', 'update', 'ci', '--tokens-per-month', '50000', '--clear', 'expires_at', '--disabled'])).toEqual({ code: 0, stdout: "updated client key 'ci'\n", stderr: '' });
    const json = JSON.parse((await run(['keys', 'list', '--json'])).stdout) as { api_keys: Record<string, unknown>[] };
    expect(json.api_keys[0]).toMatchObject({ id: 'ci', status: 'disabled', budgets: { tokens_per_day: 2000, tokens_per_month: 50000 }, metadata: { team: 'search' } });
    expect(json.api_keys[0]).not.toHaveProperty('expires_at');
    expect(JSON.stringify(json)).not.toContain('key_sha256');
    const bad = await run(['keys', 'update', 'ci', '--expires-at', '2027-02-30T00:00:00Z']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('expires_at');
    expect(bad.stderr).toContain('CLIENT_KEY_INVALID_FIELDS');
    expectNoStackTrace(bad);
    expect((await run(['keys', 'update', 'nobody', '--enable'])).stderr).toContain('CLIENT_KEY_NOT_FOUND');
  });

  it('refuses to revoke a key defined in the config and says where to remove it', async () => {
    const configPath = join(directory, 'custom.yaml');
    writeFileSync(configPath, `auth:\n  api_keys:\n    - { id: ops, key: "${configKey}" }\n`);
    const result = await run(['keys', 'revoke', 'ops', '--config', 'custom.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`defined in ${configPath} under auth.api_keys; remove it there`);
    const listed = await run(['keys', 'list'], { env: { CLIPROXY_CONFIG: configPath } });
    expect(listed.stdout).toMatch(/ops\s+config\s+active/);
  });

  it('config check: OK with warnings, or every problem and exit 1 without a stack trace', async () => {
    writeFileSync(join(directory, 'good.yaml'), 'server: { host: 0.0.0.0 }\n');
    const good = await run(['config', 'check', 'good.yaml']);
    expect(good.code).toBe(0);
    expect(good.stdout).toBe(`config OK: ${join(directory, 'good.yaml')}\n`);
    expect(good.stderr).toContain('warning: server.host: listening on 0.0.0.0 without TLS');

    writeFileSync(join(directory, 'bad.yaml'), 'server:\n  prot: 1\n  trusted_proxies: ["10.0.0.0/33"]\nauth: { api_keys: [{ id: a, key: changeme }] }\n');
    const bad = await run(['config', 'check', 'bad.yaml']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('server.prot: unknown key');
    expect(bad.stderr).toContain("server.trusted_proxies[0]: '10.0.0.0/33' is not an IP address or CIDR range");
    expect(bad.stderr).toContain('auth.api_keys[0].key: is a documentation placeholder');
    expectNoStackTrace(bad);

    const missing = await run(['config', 'check', 'missing.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('file not found');
    expect((await run(['config', 'check', 'good.yaml'], { env: { CLIPROXY_SERVER_PORT: 'x' } })).stderr).toContain(
      'CLIPROXY_SERVER_PORT: expected an integer',
    );
  });

  it('prints a one-line error for a bad key file', async () => {
    writeFileSync(join(directory, 'keys.yaml'), 'auth: { client_keys_file: keys.json }\n');
    writeFileSync(join(directory, 'keys.json'), '{broken', { mode: 0o600 });
    const result = await run(['keys', 'list', '-c', 'keys.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('client key file is not valid JSON');
    expectNoStackTrace(result);
  });

  it('rejects unknown commands and missing options with a non-zero code', async () => {
    expect((await run(['frobnicate'])).code).not.toBe(0);
    const missingId = await run(['keys', 'create']);
    expect(missingId.code).not.toBe(0);
    expect(missingId.stderr).toContain("required option '--id <name>' not specified");
  });

  it('serve resolves the config path: --config, then CLIPROXY_CONFIG, then ./config.yaml, else the default', async () => {
    const seen: (string | undefined)[] = [];
    const runServe = (options: { configPath: string | undefined }) => {
      seen.push(options.configPath);
      return Promise.resolve();
    };
    await run(['serve'], { runServe });
    writeFileSync(join(directory, 'config.yaml'), '{}\n');
    await run(['serve'], { runServe });
    await run(['serve'], { runServe, env: { CLIPROXY_CONFIG: 'from-env.yaml' } });
    await run(['serve', '--config', '/etc/explicit.yaml'], { runServe, env: { CLIPROXY_CONFIG: 'from-env.yaml' } });
    expect(seen).toEqual([undefined, join(directory, 'config.yaml'), join(directory, 'from-env.yaml'), '/etc/explicit.yaml']);
  });
});
