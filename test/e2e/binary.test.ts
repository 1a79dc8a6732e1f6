import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBinary, until, within, type RunningProcess } from '../helpers/binary-process.js';

/**
 * The real `cliproxyapi` binary as a user runs it: first start on the embedded default, a second
 * start, invalid config, an unsafe bind, hot reload of config and keys, and SIGTERM. Each process
 * is bounded in time and killed in afterEach.
 */
const children: ChildProcess[] = [];
const directories: string[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function workDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'cliproxy-e2e-'));
  directories.push(directory);
  return directory;
}

/** The built binary, watched (test/helpers/binary-process.ts); killed in afterEach. */
function run(args: string[], cwd: string, env: Record<string, string> = {}): RunningProcess & { exit: Promise<number | null> } {
  const running = runBinary(args, cwd, env);
  children.push(running.child);
  return { ...running, exit: running.closed };
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('cliproxyapi serve (the built binary)', () => {
  it('first start: creates the data dir 0700, prints a key once, serves /healthz, stops on SIGTERM', async () => {
    const cwd = workDirectory();
    const first = run(['serve'], cwd);
    const url = await within(first.url, 10_000, 'the listening line');
    const key = /cpa_[A-Za-z0-9_-]{40,}/.exec(first.output())?.[0];
    expect(key).toBeDefined();
    expect(modeOf(join(cwd, 'data'))).toBe(0o700);
    expect(modeOf(join(cwd, 'data/client-keys.json'))).toBe(0o600);
    expect(readFileSync(join(cwd, 'data/client-keys.json'), 'utf8')).not.toContain(key!);

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);

    first.child.kill('SIGTERM');
    expect(await within(first.exit, 10_000, 'exit after SIGTERM')).toBe(0);
    expect(first.output()).not.toMatch(/"level":50/); // no error lines
    // The key appears exactly once: in the announcement, never in a log line.
    expect(first.output().split(key!).length - 1).toBe(1);

    const second = run(['serve'], cwd);
    const secondUrl = await within(second.url, 10_000, 'the second listening line');
    expect(second.output()).not.toMatch(/cpa_[A-Za-z0-9_-]{40,}/);
    expect((await fetch(`${secondUrl}/v1/models`, { headers: { 'x-api-key': key! } })).status).toBe(200);
    second.child.kill('SIGINT');
    expect(await within(second.exit, 10_000, 'exit after SIGINT')).toBe(0);
  });

  it('invalid config: exits non-zero listing every problem, before listening', async () => {
    const cwd = workDirectory();
    writeFileSync(join(cwd, 'config.yaml'), 'server:\n  prot: 1\n  body_limit_bytes: lots\nproviders:\n  x:\n    type: openai\n    base_url: ftp://nope\n    api_keys: ["your-api-key"]\n    models: []\n', { mode: 0o600 });
    const started = run(['serve', '--config', 'config.yaml'], cwd);
    expect(await within(started.exit, 10_000, 'exit')).not.toBe(0);
    const output = started.output();
    expect(output).toContain('server.prot');
    expect(output).toContain('server.body_limit_bytes');
    expect(output).toContain('providers.x.base_url');
    expect(output).toMatch(/providers\.x\.api_keys\[0\].*placeholder/);
    expect(output).not.toContain('listening');
    expect(output).not.toMatch(/\n\s+at /); // a clear message, not a stack trace
  });

  it('refuses a non-loopback bind when no client key exists', async () => {
    const cwd = workDirectory();
    writeFileSync(join(cwd, 'config.yaml'), 'server:\n  host: 0.0.0.0\n', { mode: 0o600 });
    // An existing, empty key file: the operator revoked every key.
    const data = join(cwd, 'data');
    await import('node:fs').then((fs) => fs.mkdirSync(data, { mode: 0o700 }));
    writeFileSync(join(data, 'client-keys.json'), '{"v":1,"keys":[]}\n', { mode: 0o600 });
    const started = run(['serve', '--config', 'config.yaml'], cwd);
    expect(await within(started.exit, 10_000, 'exit')).not.toBe(0);
    expect(started.output()).toContain('Refusing to listen on 0.0.0.0');
    expect(started.output()).not.toContain('"cliproxyapi listening"');
  });

  it('hot reload: a config edit adds a model, an invalid edit keeps the running config, a new key works at once', async () => {
    const cwd = workDirectory();
    const provider = (models: string) =>
      `providers:\n  oai:\n    type: openai\n    base_url: http://127.0.0.1:9/v1\n    allow_private_network: true\n    api_keys: ["test-upstream-key-e2e-0001"]\n    models: [${models}]\n`;
    writeFileSync(join(cwd, 'config.yaml'), provider('{ name: model-a }'), { mode: 0o600 });
    const server = run(['serve', '--config', 'config.yaml'], cwd);
    const url = await within(server.url, 10_000, 'listening');
    const key = /cpa_[A-Za-z0-9_-]{40,}/.exec(server.output())![0];
    const modelIds = async (clientKey = key) => {
      const response = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${clientKey}` } });
      if (response.status !== 200) return [];
      return ((await response.json()) as { data: { id: string }[] }).data.map((model) => model.id);
    };
    expect(await modelIds()).toEqual(['model-a']);

    writeFileSync(join(cwd, 'config.yaml'), provider('{ name: model-a }, { name: model-b }'), { mode: 0o600 });
    await until(async () => (await modelIds()).includes('model-b'), 5_000, 'model-b after reload');

    writeFileSync(join(cwd, 'config.yaml'), `${provider('{ name: model-c }')}server:\n  prot: 1\n`, { mode: 0o600 });
    await until(() => Promise.resolve(server.output().includes('config reload failed')), 5_000, 'the reload failure log');
    expect(await modelIds()).toEqual(['model-a', 'model-b']);
    writeFileSync(join(cwd, 'config.yaml'), provider('{ name: model-a }, { name: model-b }'), { mode: 0o600 }); // repaired

    const created = run(['keys', 'create', '--id', 'bob', '--config', 'config.yaml'], cwd);
    expect(await within(created.exit, 10_000, 'keys create')).toBe(0);
    const bobKey = /cpa_[A-Za-z0-9_-]{40,}/.exec(created.output())![0];
    await until(async () => (await modelIds(bobKey)).length > 0, 5_000, 'the new key to be accepted');

    const revoked = run(['keys', 'revoke', 'bob', '--config', 'config.yaml'], cwd);
    expect(await within(revoked.exit, 10_000, 'keys revoke')).toBe(0);
    await until(async () => (await modelIds(bobKey)).length === 0, 5_000, 'the revoked key to be refused');
    expect(server.output()).not.toContain(bobKey);
    server.child.kill('SIGTERM');
    expect(await within(server.exit, 10_000, 'exit')).toBe(0);
  });
});

describe('cliproxyapi serve: credential security at start', () => {
  it('refuses a config holding an upstream key that others can read, naming the fix; --fix-permissions repairs it', async () => {
    const cwd = workDirectory();
    const configFile = join(cwd, 'config.yaml');
    writeFileSync(
      configFile,
      'providers:\n  oai:\n    type: openai\n    base_url: http://127.0.0.1:9/v1\n    allow_private_network: true\n    api_keys: ["test-upstream-key-e2e-0002"]\n    models: [{ name: model-a }]\n',
      { mode: 0o644 },
    );
    await import('node:fs').then((fs) => fs.chmodSync(configFile, 0o644));
    const refused = run(['serve', '--config', 'config.yaml'], cwd);
    expect(await within(refused.exit, 10_000, 'exit')).not.toBe(0);
    expect(refused.output()).toContain(configFile);
    expect(refused.output()).toContain(`chmod 600 ${configFile}`);
    expect(refused.output()).not.toContain('test-upstream-key-e2e-0002');
    expect(refused.output()).not.toContain('"cliproxyapi listening"');

    const repaired = run(['serve', '--config', 'config.yaml', '--fix-permissions'], cwd);
    await within(repaired.url, 10_000, 'listening after --fix-permissions');
    expect(modeOf(configFile)).toBe(0o600);
    repaired.child.kill('SIGTERM');
    expect(await within(repaired.exit, 10_000, 'exit')).toBe(0);
  });
});
