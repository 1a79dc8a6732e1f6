import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliCaptured, type CliRun } from '../helpers/cli-in-process.js';
import { startTestGateway } from '../helpers/gateway.js';
import { callManagement } from '../helpers/management.js';

/**
 * `cliproxyapi management-keys`: the documented way to make a management key. The key is printed
 * once and never stored; the file holds the hash and the role (0600); a key it made opens the API
 * of a running gateway with exactly its role; revoking it closes the API to it.
 */
let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-mgmt-cli-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

const run = (args: string[]): Promise<CliRun> => runCliCaptured(args, directory);

describe('cliproxyapi management-keys', () => {
  it('create prints the key once, stores only its hash and role (0600), and refuses bad input with a code', async () => {
    const created = await run(['management-keys', 'create', '--id', 'ops', '--role', 'operator']);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^cpm_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain("created management key 'ops' (role operator)");
    const file = join(directory, 'data', 'management-keys.json');
    expect(readFileSync(file, 'utf8')).not.toContain(key);
    expect(readFileSync(file, 'utf8')).toContain('"role": "operator"');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const badRole = await run(['management-keys', 'create', '--id', 'x', '--role', 'root']);
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toContain('code: MANAGEMENT_KEY_INVALID_ROLE');
    expect((await run(['management-keys', 'create', '--id', 'ops', '--role', 'admin'])).stderr).toContain('code: MANAGEMENT_KEY_DUPLICATE_ID');
    expect((await run(['management-keys', 'create', '--id', '../x', '--role', 'admin'])).stderr).toContain('code: MANAGEMENT_KEY_INVALID_ID');

    const listed = await run(['management-keys', 'list']);
    expect(listed.stdout).toMatch(/^ID\s+ROLE\s+SOURCE\s+CREATED\nops\s+operator\s+file\s+\d{4}-/);
    expect(listed.stdout).not.toContain(key);
    expect((await run(['management-keys', 'totp-reset', 'ops'])).stdout).toBe("'ops' had no TOTP enrollment\n");
    expect((await run(['management-keys', 'revoke', 'nobody'])).stderr).toContain('code: MANAGEMENT_KEY_NOT_FOUND');
  });

  it('a key it creates opens a running gateway with its role, and stops working once revoked and reloaded', async () => {
    const key = (await run(['management-keys', 'create', '--id', 'ops', '--role', 'auditor'])).stdout.trim();
    const keysFile = join(directory, 'data', 'management-keys.json');
    const gateway = await startTestGateway({ providers: {}, extra: { management: { enabled: true, keys_file: keysFile } } });
    try {
      const whoami = await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key });
      expect(whoami.json).toMatchObject({ id: 'ops', role: 'auditor' });
      expect((await callManagement(gateway.url, 'POST', '/v0/management/ip-blocks', { key, body: { ip: '198.51.100.1', ttl_seconds: 60 } })).status).toBe(403);
      expect((await run(['management-keys', 'revoke', 'ops'])).stdout).toBe("revoked management key 'ops'\n");
      // `serve` watches the file; the test gateway is reloaded by hand, as the watcher would.
      gateway.gateway.reload(gateway.buildConfig({ providers: {}, extra: { management: { enabled: true, keys_file: keysFile } } }));
      expect((await callManagement(gateway.url, 'GET', '/v0/management/whoami', { key })).status).toBe(401);
    } finally {
      await gateway.stop();
    }
  });
});
