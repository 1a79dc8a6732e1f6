import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliCaptured, type CliRun } from '../helpers/cli-in-process.js';

/**
 * What an operator sees from the CLI (in-process) when a file another user could control is
 * refused: the path, the rule, the fix and the catalog code, never a key, a hash or file content.
 */
let directory: string;
beforeEach(() => {
  directory = realpathSync(mkdtempSync(join(tmpdir(), 'cliproxy-cli-unsafe-')));
  writeFileSync(join(directory, 'config.yaml'), 'auth:\n  dir: ./auths\n  client_keys_file: ./keys/client-keys.json\n', { mode: 0o600 });
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const run = (args: string[]): Promise<CliRun> => runCliCaptured([...args, '--config', 'config.yaml'], directory);

describe('the CLI on a client key file that is not safe', () => {
  it('keys list and keys create refuse a symlinked key file with CLIENT_KEY_FILE_UNSAFE and change nothing', async () => {
    const hash = 'ab'.repeat(32);
    writeFileSync(join(directory, 'planted.json'), JSON.stringify({ v: 1, keys: [{ id: 'mallory', key_sha256: hash, created_at: '2026-01-01T00:00:00.000Z' }] }), { mode: 0o600 });
    mkdirSync(join(directory, 'keys'), { mode: 0o700 });
    symlinkSync(join(directory, 'planted.json'), join(directory, 'keys', 'client-keys.json'));
    for (const command of [['keys', 'list'], ['keys', 'create', '--id', 'alice']]) {
      const result = await run(command);
      expect(result.code, command.join(' ')).toBe(1);
      expect(result.stderr).toContain(`${join(directory, 'keys', 'client-keys.json')} (1 problem):\n  - client key file is a symlink`);
      expect(result.stderr).toContain('code: CLIENT_KEY_FILE_UNSAFE (docs/errors.md)');
      expect(result.stderr + result.stdout).not.toContain(hash);
      expect(result.stdout).not.toContain('mallory');
    }
  });

  it('creds import of a file holding control characters names the rule, not the content', async () => {
    const source = join(directory, 'key.txt');
    writeFileSync(source, 'PATH=/bin\u0000SECRET_VALUE=canary-control-0001\u0000', { mode: 0o600 });
    const result = await run(['creds', 'import', source, '--provider', 'openai']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${source}: the API key is not a plausible credential (43 characters); a credential must be 8 to 16384 printable ASCII characters, no spaces or control characters`);
    expect(result.stderr).not.toContain('canary-control-0001');
  });
});
