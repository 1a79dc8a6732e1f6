import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-io.js';
import { runCli } from '../../src/cli/main.js';

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

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env, cwd: directory };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

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
