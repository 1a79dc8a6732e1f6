import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';

/**
 * `keys create` and `keys revoke` each rewrite the whole key file. Run as separate processes at the
 * same time (two operators, a script in a loop), an unlocked read-modify-write loses updates: a key
 * that was printed is missing from the file (its client is refused), or a revoked key comes back
 * (the server accepts it again). This runs the real binary, 20 creates racing one revoke.
 */
const binary = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');

let directory: string;
/** Children still running when a test ends (it failed or timed out): killed before the rm. */
const running = new Set<ChildProcess>();
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-key-race-'));
  writeFileSync(join(directory, 'config.yaml'), 'auth:\n  dir: ./auths\n  client_keys_file: ./keys/client-keys.json\n', { mode: 0o600 });
});
afterEach(async () => {
  await Promise.all([...running].map((child) => {
    child.kill('SIGKILL');
    return once(child, 'close');
  }));
  rmSync(directory, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [binary, ...args, '--config', join(directory, 'config.yaml')], { cwd: directory, env: { PATH: process.env['PATH'] ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // No timer per process: 21 processes started at once share the CPU and all finish near the end,
    // so under load each takes about as long as the whole race. The test's own timeout bounds them.
    running.add(child);
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

interface StoredKeys {
  keys: { id: string; key_sha256: string }[];
}

it('20 concurrent `keys create` and one `keys revoke`: every printed key is in the file, the revoked one is not', { timeout: 120_000 }, async () => {
  const victim = await cli(['keys', 'create', '--id', 'victim']);
  expect(victim.code).toBe(0);

  const creates = Array.from({ length: 20 }, (_, index) => cli(['keys', 'create', '--id', `racer-${index}`]));
  const revoke = cli(['keys', 'revoke', 'victim']);
  const [revoked, ...created] = await Promise.all([revoke, ...creates]);

  expect(revoked.code, revoked.stderr).toBe(0);
  expect(revoked.stdout).toContain("revoked client key 'victim'");
  const file = JSON.parse(readFileSync(join(directory, 'keys', 'client-keys.json'), 'utf8')) as StoredKeys;
  const stored = new Map(file.keys.map((entry) => [entry.id, entry.key_sha256]));
  expect(stored.has('victim'), 'the revoked key came back').toBe(false);
  created.forEach((result, index) => {
    expect(result.code, result.stderr).toBe(0);
    const printedKey = result.stdout.trim();
    expect(stored.get(`racer-${index}`), `racer-${index} was printed but lost`).toBe(createHash('sha256').update(printedKey).digest('hex'));
  });
  expect(stored.size).toBe(20);
  // The lock file is released: only the key file remains.
  expect(readdirSync(join(directory, 'keys'))).toEqual(['client-keys.json']);
});
