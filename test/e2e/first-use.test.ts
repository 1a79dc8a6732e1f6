import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repositoryRoot, runBinary, spawnWatched, until, within, type RunningProcess } from '../helpers/binary-process.js';

/**
 * First-use defects of issues #8 and #9 as a user meets them with the built binary and npm: each
 * process is bounded in time and killed in afterEach.
 */
const running: RunningProcess[] = [];
const directories: string[] = [];

afterEach(() => {
  for (const process_ of running.splice(0)) {
    const pid = process_.child.pid;
    if (pid === undefined) continue;
    try {
      // Detached children lead their own process group: end it whole (npm and anything it started).
      process.kill(process_.child.spawnargs[0] === 'npm' ? -pid : pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function workDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'cliproxy-first-use-e2e-'));
  directories.push(directory);
  return directory;
}

function track(process_: RunningProcess): RunningProcess {
  running.push(process_);
  return process_;
}

const provider = (apiKeys: string) => `providers:\n  oai:\n    type: openai\n    base_url: http://127.0.0.1:9/v1\n    allow_private_network: true\n    api_keys: ${apiKeys}\n    models: [{ name: model-a }]\n`;

describe('first use with the built binary', () => {
  it('npm start: SIGINT to the npm process alone stops the server (node is in charge of signals)', async () => {
    const cwd = workDirectory();
    writeFileSync(join(cwd, 'config.yaml'), '{}\n', { mode: 0o600 });
    // --ignore-scripts skips prestart (the build; global setup already built) but runs "start" itself.
    const npm = track(
      spawnWatched('npm', ['run', 'start', '--ignore-scripts'], {
        cwd: repositoryRoot,
        detached: true,
        env: { PATH: process.env.PATH ?? '', HOME: cwd, CLIPROXY_CONFIG: join(cwd, 'config.yaml'), CLIPROXY_SERVER_PORT: '0', npm_config_update_notifier: 'false' },
      }),
    );
    const url = await within(npm.url, 20_000, 'the server behind npm start to listen');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    process.kill(npm.child.pid!, 'SIGINT');
    await within(npm.closed, 10_000, 'npm and the server to exit after SIGINT to npm');
    expect(npm.output()).toContain('"signal":"SIGINT","msg":"shutting down"');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('serve -c /dev/null (or a directory) is an error before anything is written, not a start on defaults', async () => {
    const cwd = workDirectory();
    for (const path of ['/dev/null', cwd]) {
      const started = track(runBinary(['serve', '-c', path], cwd));
      expect(await within(started.closed, 10_000, `exit for ${path}`)).toBe(1);
      expect(started.output()).toContain('is not a regular file');
      expect(started.output()).toContain('code: CONFIG_UNREADABLE');
      expect(started.output()).not.toContain('listening');
    }
  });

  it('a hot reload refusing a secret typed as a YAML key logs its path and a masked form, never the secret', async () => {
    const cwd = workDirectory();
    writeFileSync(join(cwd, 'config.yaml'), provider('["test-upstream-key-first-use-0001"]'), { mode: 0o600 });
    const server = track(runBinary(['serve', '--config', 'config.yaml'], cwd));
    await within(server.url, 10_000, 'listening');
    const canary = `Zq${randomBytes(24).toString('hex')}Xk`;
    // The mistake issue #9 describes: the key typed as a mapping key (`KEY:`) instead of a list item
    // (`- KEY`), at the indentation of api_keys, so it becomes an unknown key of the provider.
    writeFileSync(join(cwd, 'config.yaml'), provider(`\n    ${canary}:`), { mode: 0o600 });
    await until(() => server.output().includes('config reload failed'), 5_000, 'the reload failure log line');
    expect(server.output()).toContain(`providers.oai.‹masked: Zq…, ${canary.length} characters›: unknown key that looks like a secret`);
    expect(server.output()).not.toContain(canary);
    expect(server.output()).not.toContain(canary.slice(0, 6));
    server.child.kill('SIGTERM');
    expect(await within(server.closed, 10_000, 'exit')).toBe(0);
  });

  it('warns about a provider without api_keys only while no stored credential serves it', async () => {
    const cwd = workDirectory();
    writeFileSync(join(cwd, 'config.yaml'), provider('[]'), { mode: 0o600 });
    const warning = 'providers.oai: no upstream credential';
    const bare = track(runBinary(['serve', '--config', 'config.yaml'], cwd));
    await within(bare.url, 10_000, 'listening without credentials');
    expect(bare.output()).toContain(warning);
    bare.child.kill('SIGTERM');
    expect(await within(bare.closed, 10_000, 'exit')).toBe(0);

    writeFileSync(join(cwd, 'upstream.key'), 'test-upstream-key-first-use-0002\n', { mode: 0o600 });
    const imported = track(runBinary(['creds', 'import', 'upstream.key', '--provider', 'oai', '--config', 'config.yaml'], cwd));
    expect(await within(imported.closed, 10_000, 'creds import')).toBe(0);
    const served = track(runBinary(['serve', '--config', 'config.yaml'], cwd));
    await within(served.url, 10_000, 'listening with a stored credential');
    expect(served.output()).not.toContain(warning);
    expect(served.output()).not.toContain('api_keys: empty');
    served.child.kill('SIGTERM');
    expect(await within(served.closed, 10_000, 'exit')).toBe(0);
  });
});
