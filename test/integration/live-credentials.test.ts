import { chmod, copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { prepareCredentialStore } from '../../src/credentials/startup-checks.js';
import { createMemorySecurityEvents } from '../../src/credentials/security-events.js';
import { generateKey, writeKeyFile } from '../../src/credentials/keyring.js';
import { startGateway, type RunningGateway } from '../../src/main.js';
import { canary, oauthRecord } from '../../src/oauth/__fixtures__/refresh-support.js';
import { startAnthropicStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { runCliCaptured } from '../helpers/cli-in-process.js';
import { generateTestClientKey, sha256Hex } from '../helpers/gateway.js';

/**
 * Live credential changes against a running server under traffic: `creds import`, `creds delete`
 * and `encryption rotate`, each run as the CLI (its own store instance, as its own process would
 * have), reach the server without a restart and without one failed request; files that would
 * refuse a start (renamed, swapped, symlinked, readable by others, in clear) are refused one by
 * one while the running credentials keep serving.
 */
const debounceMs = 40;
const waitLimitMs = 8_000;

interface Setup {
  baseDir: string;
  configPath: string;
  authDir: string;
  keyFile: string;
  gateway: RunningGateway;
  upstream: StubUpstream;
  clientKey: string;
  logs: string[];
  events: ReturnType<typeof createMemorySecurityEvents>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(initialTokens: Record<string, string>): Promise<Setup> {
  const baseDir = await mkdtemp(join(tmpdir(), 'cliproxy-live-creds-'));
  cleanups.push(() => rm(baseDir, { recursive: true, force: true }));
  const upstream = await startAnthropicStub();
  cleanups.push(() => upstream.close());
  const clientKey = generateTestClientKey();
  const configPath = join(baseDir, 'config.yaml');
  await writeFile(
    configPath,
    stringify({
      server: { host: '127.0.0.1', port: 0, security: { rate_limit: { requests_per_second: 10_000, burst: 10_000 } } },
      auth: { api_keys: [{ id: 'test-client', key_sha256: sha256Hex(clientKey) }] },
      providers: { claude: { type: 'anthropic', base_url: upstream.baseUrl, api_keys: [], models: [{ name: 'claude-test' }], allow_private_network: true } },
    }),
    { mode: 0o600 },
  );
  const loaded = loadConfig({ path: configPath, env: {} });
  const prepared = await prepareCredentialStore(loaded, { env: {} });
  for (const [id, token] of Object.entries(initialTokens)) {
    await prepared.store.write(oauthRecord({ id, provider: 'claude', access_token: token, refresh_token: canary('refresh'), expires_at: Date.now() + 3_600_000 }));
  }
  prepared.encryptedStore?.keyring.destroy();
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString().split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  const events = createMemorySecurityEvents();
  const gateway = await startGateway({ loaded, logStream, securityEvents: events, credentialWatchDebounceMs: debounceMs });
  cleanups.push(() => gateway.close());
  return { baseDir, configPath, authDir: loaded.config.auth.dir, keyFile: loaded.config.auth.encryption.key_file, gateway, upstream, clientKey, logs, events };
}

async function ask(setup: Setup): Promise<number> {
  const response = await fetch(`${setup.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': setup.clientKey, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Requests back to back on two connections until stopped; every status is kept. */
function startTraffic(setup: Setup): { statuses: number[]; stop(): Promise<void> } {
  const statuses: number[] = [];
  let running = true;
  const loop = async () => {
    while (running) statuses.push(await ask(setup).catch(() => -1));
  };
  const loops = [loop(), loop()];
  return {
    statuses,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + waitLimitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function tokensSeenSince(setup: Setup, index: number): Set<string | undefined> {
  return new Set(setup.upstream.requests.slice(index).map((request) => request.apiKey));
}

function reloadLines(setup: Setup, event: string): Record<string, unknown>[] {
  return setup.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.event === event);
}

describe('live credential changes', () => {
  it('import, delete and rotate reach a running server under traffic: no restart, no failed request', async () => {
    const firstToken = canary('first-access');
    const setup = await start({ first: firstToken });
    const traffic = startTraffic(setup);
    try {
      await waitFor(() => traffic.statuses.length >= 5, 'traffic');

      // creds import (a Go-proxy auth file) in "another process": the server adopts it.
      const secondToken = canary('second-access');
      const importFile = join(setup.baseDir, 'second.json');
      await writeFile(importFile, JSON.stringify({ type: 'claude', access_token: secondToken, refresh_token: canary('second-refresh'), expired: new Date(Date.now() + 3_600_000).toISOString() }), { mode: 0o600 });
      const imported = await runCliCaptured(['creds', 'import', importFile, '--delete-source', '-c', setup.configPath], setup.baseDir);
      expect(imported.code, imported.stderr).toBe(0);
      await waitFor(() => setup.upstream.requests.some((request) => request.apiKey === secondToken), 'the imported credential to be used upstream');

      // creds delete: the credential leaves the pool; once the reload is logged no request carries it.
      const deleted = await runCliCaptured(['creds', 'delete', 'first', '-c', setup.configPath], setup.baseDir);
      expect(deleted.code, deleted.stderr).toBe(0);
      await waitFor(() => reloadLines(setup, 'credential-reload').some((line) => (line.removed as string[]).includes('first')), 'the delete to be applied');
      const afterDelete = setup.upstream.requests.length;
      await waitFor(() => setup.upstream.requests.length >= afterDelete + 10, 'traffic after the delete');
      expect(tokensSeenSince(setup, afterDelete)).toEqual(new Set([secondToken]));

      // encryption rotate: the server re-reads the keyring, so a credential written under the NEW
      // key afterwards (only decryptable with it) joins the pool.
      const rotated = await runCliCaptured(['encryption', 'rotate', '--retire-old', '-c', setup.configPath], setup.baseDir);
      expect(rotated.code, rotated.stderr).toBe(0);
      await waitFor(() => reloadLines(setup, 'encryption-keyring-reload').length >= 1, 'the keyring reload');
      const thirdToken = canary('third-access');
      const thirdFile = join(setup.baseDir, 'third.json');
      await writeFile(thirdFile, JSON.stringify({ type: 'claude', access_token: thirdToken, refresh_token: canary('third-refresh') }), { mode: 0o600 });
      const importedAfterRotation = await runCliCaptured(['creds', 'import', thirdFile, '-c', setup.configPath], setup.baseDir);
      expect(importedAfterRotation.code, importedAfterRotation.stderr).toBe(0);
      await waitFor(() => setup.upstream.requests.some((request) => request.apiKey === thirdToken), 'the credential written under the new key to be used');
      await waitFor(() => traffic.statuses.length >= 60, 'more traffic');
    } finally {
      await traffic.stop();
    }
    expect(traffic.statuses.filter((status) => status !== 200)).toEqual([]);
    expect(reloadLines(setup, 'credential-reload-refused')).toEqual([]);
    // The audit sink heard of each change; no token in any log line or event.
    expect(setup.events.events.some((event) => event.event_type === 'credential-reload' && event.credential_ids?.includes('second'))).toBe(true);
    const output = [...setup.logs, ...setup.events.events.map((event) => JSON.stringify(event))].join('\n');
    expect(output).not.toMatch(/canary-/);
  });

  it('refuses a renamed, swapped, symlinked, loosened or plaintext file and a foreign key file; the running set keeps serving', async () => {
    const aliceToken = canary('alice-access');
    const bobToken = canary('bob-access');
    const setup = await start({ alice: aliceToken, bob: bobToken });
    const traffic = startTraffic(setup);
    try {
      await waitFor(() => traffic.statuses.length >= 5, 'traffic');
      const file = (id: string) => join(setup.authDir, `${id}.json`);
      const aliceEnvelope = await readFile(file('alice'));
      const refusedIds = () => new Set(reloadLines(setup, 'credential-reload-refused').map((line) => line.credential_id));

      await copyFile(file('alice'), file('renamed'));
      await chmod(file('renamed'), 0o600);
      await symlink(file('bob'), file('linked'));
      await writeFile(file('loose'), aliceEnvelope, { mode: 0o644 });
      await chmod(file('loose'), 0o644);
      await writeFile(file('plain'), JSON.stringify({ type: 'claude', access_token: canary('plain-access'), refresh_token: canary('plain-refresh') }), { mode: 0o600 });
      // bob's file now holds alice's envelope: the AAD names alice, so it fails to decrypt as bob.
      await writeFile(`${file('bob')}.swap`, aliceEnvelope, { mode: 0o600 });
      await rm(file('bob'));
      await copyFile(`${file('bob')}.swap`, file('bob'));
      await chmod(file('bob'), 0o600);
      await rm(`${file('bob')}.swap`);
      await waitFor(() => ['renamed', 'linked', 'loose', 'plain', 'bob'].every((id) => refusedIds().has(id)), 'every hostile file to be refused');

      // A key file replaced by an unrelated key would lose every credential's key: refused.
      const foreign = generateKey();
      await writeKeyFile(setup.keyFile, [foreign]);
      foreign.key.fill(0);
      await waitFor(() => reloadLines(setup, 'encryption-keyring-reload').some((line) => line.outcome === 'refused'), 'the key file change to be refused');

      const mark = setup.upstream.requests.length;
      await waitFor(() => setup.upstream.requests.length >= mark + 20, 'traffic after the refusals');
      // Both running credentials (bob's as it was loaded) keep serving; nothing refused is used.
      expect(tokensSeenSince(setup, mark)).toEqual(new Set([aliceToken, bobToken]));
    } finally {
      await traffic.stop();
    }
    expect(traffic.statuses.filter((status) => status !== 200)).toEqual([]);
    const refusals = reloadLines(setup, 'credential-reload-refused');
    const reasonOf = (id: string) => String(refusals.find((line) => line.credential_id === id)?.detail);
    expect(reasonOf('renamed')).toMatch(/authentication failed.*renamed/);
    expect(reasonOf('bob')).toMatch(/authentication failed/);
    expect(reasonOf('linked')).toMatch(/symlink/);
    expect(reasonOf('loose')).toMatch(/mode 0644/);
    expect(reasonOf('plain')).toMatch(/clear|unencrypted/);
    expect(setup.logs.join('\n')).not.toMatch(/canary-/);
  });
});
