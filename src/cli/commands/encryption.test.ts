import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canaryAccessToken, temporaryDirectory, writeTestConfig } from '../../credentials/__fixtures__/test-support.js';
import type { CliIo } from '../cli-io.js';
import { runCli } from '../program.js';

let directory: { path: string; remove: () => void };
beforeEach(() => {
  directory = temporaryDirectory();
  writeTestConfig(directory.path);
});
afterEach(() => directory.remove());

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env, cwd: directory.path };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

describe('cliproxyapi encryption', () => {
  it('keygen writes a 0600 keyring (umask 000), never prints the key, and refuses to overwrite', async () => {
    const previous = process.umask(0);
    let generated;
    try {
      generated = await run(['encryption', 'keygen']);
    } finally {
      process.umask(previous);
    }
    const keyFile = join(directory.path, 'encryption.key');
    expect(generated.code).toBe(0);
    expect(generated.stdout).toMatch(/^wrote .*encryption\.key \(mode 0600, key id k-[0-9a-f]{12}\)\n$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(keyFile, 'utf8')) as { keys: { key: string }[] };
    expect(generated.stdout + generated.stderr).not.toContain(stored.keys[0]?.key);

    const again = await run(['encryption', 'keygen']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('pass --force');
    expect((await run(['encryption', 'keygen', '--force'])).code).toBe(0);

    const goFile = join(directory.path, 'claude-a.json');
    writeFileSync(goFile, JSON.stringify({ type: 'claude', access_token: canaryAccessToken }), { mode: 0o600 });
    expect((await run(['creds', 'import', goFile])).code).toBe(0);
    const forced = await run(['encryption', 'keygen', '--force']);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain("Use 'cliproxyapi encryption rotate'");
  });

  it('refuses a placeholder or low-entropy CLIPROXY_ENCRYPTION_KEY with how to make one', async () => {
    for (const bad of ['YOUR_32_BYTE_ENCRYPTION_KEY_HERE', Buffer.alloc(32, 1).toString('base64'), randomBytes(16).toString('base64')]) {
      const result = await run(['creds', 'list'], { CLIPROXY_ENCRYPTION_KEY: bad });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: CLIPROXY_ENCRYPTION_KEY: .*cliproxyapi encryption keygen/);
    }
  });

  it('rotate and status: key ids and file counts, never key material', async () => {
    const goFile = join(directory.path, 'claude-a.json');
    writeFileSync(goFile, JSON.stringify({ type: 'claude', access_token: canaryAccessToken }), { mode: 0o600 });
    expect((await run(['creds', 'import', goFile])).code).toBe(0);
    const before = await run(['encryption', 'status']);
    expect(before.stdout).toMatch(/^key source: key_file\nk-[0-9a-f]{12} {2}\S+ {2}files: 1 {2}\(newest: new writes\)\n$/);

    const rotated = await run(['encryption', 'rotate']);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/^rotated to key k-[0-9a-f]{12}: 1 re-encrypted, 0 unreadable, 0 old key\(s\) retired\n$/);
    expect(readFileSync(join(directory.path, 'data', 'logs', 'audit.jsonl'), 'utf8')).toContain('"event_type":"encryption-key-rotate"');
    const after = await run(['encryption', 'status']);
    expect(after.stdout.split('\n').filter((line) => line.includes('files: 1'))).toHaveLength(1);
    expect(after.stdout).toContain('files: 0');

    const retired = await run(['encryption', 'rotate', '--resume', '--retire-old']);
    expect(retired.stdout).toContain('1 old key(s) retired');
    const keys = (JSON.parse(readFileSync(join(directory.path, 'encryption.key'), 'utf8')) as { keys: { key: string }[] }).keys;
    expect(keys).toHaveLength(1);
    for (const output of [before, rotated, after, retired]) {
      expect(output.stdout + output.stderr).not.toContain(keys[0]?.key);
      expect(output.stdout + output.stderr).not.toContain(canaryAccessToken);
    }
  });

  it('refuses to rotate a key from the environment', async () => {
    const result = await run(['encryption', 'rotate'], { CLIPROXY_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('rotation needs the keyring in auth.encryption.key_file');
  });
});
