import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Anthropic from '@anthropic-ai/sdk';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { canary, oauthRecord, TokenStub } from '../../src/oauth/__fixtures__/refresh-support.js';
import { prepareCredentialStore } from '../../src/credentials/startup-checks.js';
import { startGateway, type RunningGateway } from '../../src/main.js';
import { startAnthropicStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { generateTestClientKey, sha256Hex } from '../helpers/gateway.js';

/**
 * The credential layers wired end to end: an OAuth credential stored encrypted in auth.dir, already
 * expired, is refreshed once against a token stub before the request goes upstream; the rotated
 * tokens are persisted encrypted (never in clear on disk) and never appear in a log line.
 */
describe('stored OAuth credentials through the gateway', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('refreshes an expired stored token once, sends the new one upstream, persists it encrypted', async () => {
    const baseDir = await mkdtemp(join(tmpdir(), 'cliproxy-oauth-it-'));
    cleanups.push(() => rm(baseDir, { recursive: true, force: true }));
    const tokenStub = new TokenStub();
    await tokenStub.start();
    cleanups.push(() => tokenStub.stop());
    const anthropicStub: StubUpstream = await startAnthropicStub();
    cleanups.push(() => anthropicStub.close());

    const clientKey = generateTestClientKey();
    const configText = stringify({
      server: { host: '127.0.0.1', port: 0 },
      auth: { api_keys: [{ id: 'test-client', key_sha256: sha256Hex(clientKey) }] },
      providers: {
        claude: {
          type: 'anthropic',
          base_url: anthropicStub.baseUrl,
          api_keys: [],
          models: [{ name: 'claude-test' }],
          oauth: { token_url: tokenStub.url },
          allow_private_network: true, // both stubs are on loopback
        },
      },
    });
    const loaded = parseConfigText(configText, { sourceName: 'oauth-it.yaml', baseDir, env: {} });
    const staleAccess = canary('stale-access');
    const oldRefresh = canary('old-refresh');
    const prepared = await prepareCredentialStore(loaded, { env: {} });
    await prepared.store.write(
      oauthRecord({ id: 'claude-login', provider: 'claude', access_token: staleAccess, refresh_token: oldRefresh, expires_at: Date.now() - 60_000 }),
    );

    const logs: string[] = [];
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(chunk.toString());
        callback();
      },
    });
    const gateway: RunningGateway = await startGateway({ loaded, logStream });
    cleanups.push(() => gateway.close());

    const client = new Anthropic({ baseURL: gateway.url, apiKey: clientKey, maxRetries: 0, timeout: 10_000 });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => client.messages.create({ model: 'claude-test', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] })),
    );
    expect(answers.every((answer) => answer.type === 'message')).toBe(true);

    // One token call for five concurrent requests, with the stored refresh token.
    expect(tokenStub.calls).toHaveLength(1);
    expect(tokenStub.calls[0]!.body).toContain(oldRefresh);
    const issued = tokenStub.issued[0]!;
    // Upstream saw the new access token as an OAuth bearer, never the stale one.
    for (const request of anthropicStub.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${issued.accessToken}`);
      expect(String(request.headers['anthropic-beta'])).toContain('oauth-2025-04-20');
    }
    // Persisted: the store returns the rotated tokens; the file holds none of them in clear.
    const stored = await prepared.store.read('claude-login');
    expect(stored.access_token).toBe(issued.accessToken);
    expect(stored.refresh_token).toBe(issued.refreshToken);
    const authDir = loaded.config.auth.dir;
    for (const name of await readdir(authDir)) {
      const text = await readFile(join(authDir, name), 'utf8');
      for (const secret of [staleAccess, oldRefresh, issued.accessToken, issued.refreshToken]) expect(text).not.toContain(secret);
    }
    await gateway.close();
    for (const line of logs) {
      for (const secret of [staleAccess, oldRefresh, issued.accessToken, issued.refreshToken, clientKey]) expect(line).not.toContain(secret);
    }
  });
});
