import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBinary, within, type RunningProcess } from '../helpers/binary-process.js';

/**
 * Issue 9, item 13, with the built binary: a FIFO or a device where a file is expected must be
 * refused at once, never waited on or read for ever. Each command runs in its own process, bounded
 * by `within` (a hang fails the test by its timeout) and killed in afterEach. Before the fix a
 * FIFO named `x.json` in auth.dir kept `serve` from listening and `creds list`/`creds check` from
 * ending, and `creds import /proc/self/environ` stored the environment as an API key.
 */
const running: RunningProcess[] = [];
let directory: string;
let authDir: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-non-regular-'));
  authDir = join(directory, 'auths');
  mkdirSync(authDir, { mode: 0o700 });
  writeFileSync(join(directory, 'config.yaml'), 'auth:\n  dir: ./auths\n  client_keys_file: ./client-keys.json\n  encryption:\n    enabled: true\n    key_file: ./encryption.key\n', { mode: 0o600 });
  // A key generated now (random, never committed), so the store opens and reads auth.dir.
  writeFileSync(join(directory, 'encryption.key'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
});
afterEach(() => {
  for (const started of running.splice(0)) started.child.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}): RunningProcess {
  const started = runBinary(args, directory, env);
  running.push(started);
  return started;
}

/** Runs a command that must end by itself within 10 s; returns its exit code and output. */
async function finished(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const started = cli(args, env);
  const code = await within(started.closed, 10_000, `\`cliproxyapi ${args.join(' ')}\` to end`);
  return { code, output: started.output() };
}

function mkfifo(path: string): string {
  const made = spawnSync('mkfifo', ['-m', '600', path]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr.toString()}`);
  return path;
}

describe('a FIFO named x.json in auth.dir', () => {
  it('serve listens anyway and names it as not a regular file', { timeout: 30_000 }, async () => {
    mkfifo(join(authDir, 'x.json'));
    const server = cli(['serve', '--config', 'config.yaml'], { CLIPROXY_SERVER_PORT: '0' });
    const url = await within(server.url, 15_000, 'serve to listen with a FIFO in auth.dir');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(server.output()).toContain(`${join(authDir, 'x.json')}: is not a regular file (a pipe)`);
  });

  it('creds list and creds check end and name it (list exits 1 on an unreadable file; check warns, as the start does)', { timeout: 30_000 }, async () => {
    mkfifo(join(authDir, 'x.json'));
    for (const [command, exitCode] of [[['creds', 'list'], 1], [['creds', 'check'], 0]] as const) {
      const result = await finished([...command, '--config', 'config.yaml']);
      expect(result.code, command.join(' ')).toBe(exitCode);
      expect(result.output).toContain(`${join(authDir, 'x.json')}: is not a regular file (a pipe)`);
    }
  });
});

describe('config and import paths that are not regular files', () => {
  it('config check /dev/zero and a FIFO: refused at once (CONFIG_UNREADABLE)', { timeout: 30_000 }, async () => {
    const fifo = mkfifo(join(directory, 'fifo.yaml'));
    for (const [path, kind] of [['/dev/zero', 'a character device'], [fifo, 'a pipe']] as const) {
      const result = await finished(['config', 'check', path]);
      expect(result.code, path).toBe(1);
      expect(result.output).toContain(`is not a regular file (${kind})`);
      expect(result.output).toContain('code: CONFIG_UNREADABLE');
    }
  });

  it('creds import of a FIFO or /dev/zero is refused at once', { timeout: 30_000 }, async () => {
    const fifo = mkfifo(join(directory, 'key.txt'));
    for (const [path, kind] of [[fifo, 'a pipe'], ['/dev/zero', 'a character device']] as const) {
      const result = await finished(['creds', 'import', path, '--provider', 'openai', '--config', 'config.yaml']);
      expect(result.code, path).toBe(1);
      expect(result.output).toContain(`${path} is not a regular file (${kind})`);
    }
  });

  it('creds import /proc/self/environ is not taken as an API key; the error names the rule, never the content', { timeout: 30_000 }, async () => {
    const canary = `environ-canary-${randomBytes(12).toString('hex')}`;
    // PATH without spaces, so the environment is one "line" as the issue saw it (whitespace would be refused by another rule).
    const result = await finished(['creds', 'import', '/proc/self/environ', '--provider', 'openai', '--config', 'config.yaml'], { PATH: '/usr/bin:/bin', CANARY_VARIABLE: canary });
    expect(result.code).toBe(1);
    expect(result.output).toContain('/proc/self/environ: the API key is not a plausible credential');
    expect(result.output).toContain('a credential must be 8 to 16384 printable ASCII characters, no spaces or control characters');
    expect(result.output).not.toContain(canary);
    expect(result.output).not.toContain('CANARY_VARIABLE');
    expect(readdirSync(authDir)).toEqual([]);
  });
});
