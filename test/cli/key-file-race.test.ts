import { spawn } from 'node:child_process';
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
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-key-race-'));
  writeFileSync(join(directory, 'config.yaml'), 'auth:\n  dir: ./auths\n  client_keys_file: ./keys/client-keys.json\n', { mode: 0o600 });
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [binary, ...args, '--config', join(directory, 'config.yaml')], { cwd: directory, env: { PATH: process.env['PATH'] ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
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
