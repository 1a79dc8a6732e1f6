import { mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type LoadedConfig } from './load.js';
import { watchConfig, type ConfigWatcher } from './watch.js';

const debounceMs = 50;
/** Longest wait for an event that should come; fs.watch delivers within milliseconds on Linux. */
const eventTimeoutMs = 5_000;
/** How long to watch for an event that should NOT come: several debounce periods. */
const quietPeriodMs = 400;

let directory: string;
let configPath: string;
let watcher: ConfigWatcher | undefined;
let reloads: LoadedConfig[];
let errors: unknown[];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-watch-'));
  configPath = join(directory, 'config.yaml');
  writeFileSync(configPath, 'server:\n  port: 9000\n');
  reloads = [];
  errors = [];
});

afterEach(() => {
  watcher?.close();
  watcher = undefined;
  rmSync(directory, { recursive: true, force: true });
});

function startWatching(extraPaths: string[] = []): void {
  watcher = watchConfig({
    path: configPath,
    extraPaths,
    debounceMs,
    load: () => loadConfig({ path: configPath, env: {} }),
    onReload: (loaded) => reloads.push(loaded),
    onError: (error) => errors.push(error),
  });
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + eventTimeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

describe('watchConfig', () => {
  it('reloads a valid edit', async () => {
    startWatching();
    writeFileSync(configPath, 'server:\n  port: 9001\n');
    await waitFor(() => reloads.length === 1, 'a reload');
    expect(reloads[0]!.config.server.port).toBe(9001);
    expect(errors).toEqual([]);
  });

  it('reloads when an editor replaces the file by rename', async () => {
    startWatching();
    const temporary = join(directory, '.config.yaml.swp');
    writeFileSync(temporary, 'server:\n  port: 9002\n');
    renameSync(temporary, configPath);
    await waitFor(() => reloads.length === 1, 'a reload');
    expect(reloads[0]!.config.server.port).toBe(9002);
  });

  it('reports an invalid edit, does not reload, and recovers on the next valid edit', async () => {
    startWatching();
    writeFileSync(configPath, 'server:\n  port: not-a-port\n');
    await waitFor(() => errors.length === 1, 'an error');
    expect(errors[0]).toBeInstanceOf(ConfigError);
    expect((errors[0] as ConfigError).problems).toEqual(['server.port: expected integer; found "not-a-port"']);
    expect(reloads).toEqual([]);

    writeFileSync(configPath, 'server:\n  port: 9003\n');
    await waitFor(() => reloads.length === 1, 'a reload');
    expect(reloads[0]!.config.server.port).toBe(9003);
    expect(errors).toHaveLength(1);
  });

  it('does not reload when the content did not change', async () => {
    startWatching();
    writeFileSync(configPath, 'server:\n  port: 9000\n');
    const now = new Date();
    utimesSync(configPath, now, now);
    await pause(quietPeriodMs);
    expect(reloads).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('debounces a burst of writes into one reload', async () => {
    startWatching();
    for (let port = 9010; port < 9015; port += 1) writeFileSync(configPath, `server:\n  port: ${port}\n`);
    await waitFor(() => reloads.length >= 1, 'a reload');
    await pause(quietPeriodMs);
    expect(reloads).toHaveLength(1);
    expect(reloads[0]!.config.server.port).toBe(9014);
  });

  it('reloads when an extra path changes', async () => {
    const keysFile = join(directory, 'client-keys.json');
    startWatching([keysFile]);
    writeFileSync(keysFile, '{"v":1,"keys":[]}\n');
    await waitFor(() => reloads.length === 1, 'a reload');
    expect(reloads[0]!.config.server.port).toBe(9000);
  });

  it('accepts an extra path whose directory does not exist yet', async () => {
    startWatching([join(directory, 'not-yet', 'client-keys.json')]);
    writeFileSync(configPath, 'server:\n  port: 9005\n');
    await waitFor(() => reloads.length === 1, 'a reload');
    expect(errors).toEqual([]);
  });

  it('stops after close()', async () => {
    startWatching();
    watcher!.close();
    writeFileSync(configPath, 'server:\n  port: 9004\n');
    await pause(quietPeriodMs);
    expect(reloads).toEqual([]);
  });
});
