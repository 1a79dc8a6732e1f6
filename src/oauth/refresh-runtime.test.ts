import { expect, it } from 'vitest';
import { defaultConfig } from '../config/defaults.js';
import type { Config } from '../config/schema.js';
import { redactText } from '../security/redact.js';
import { MemoryStateBackend } from '../state/memory.js';
import { startOAuthRuntime } from './refresh-runtime.js';
import { canary, captureLogger, MemoryCredentialStore, oauthRecord } from './__fixtures__/refresh-support.js';

it('loads stored OAuth and API-key credentials by provider, skips an unreadable file by id, and schedules refreshes', async () => {
  const clientSecret = canary('client-secret');
  const config: Config = {
    ...defaultConfig,
    providers: {
      claude: { type: 'anthropic', base_url: 'https://api.anthropic.com', api_keys: [], models: [{ name: 'claude-sonnet-4-5' }] },
      gemini: { type: 'openai', base_url: 'https://example.invalid/v1', api_keys: [], models: [{ name: 'gemini-2.5-pro' }], oauth: { profile: 'google', client_secret: clientSecret } },
    },
  };
  const storedKey = canary('stored-api-key');
  const store = new MemoryCredentialStore([
    oauthRecord({ id: 'claude-oauth-1', access_token: canary('access'), refresh_token: canary('refresh'), expires_at: Date.now() + 8 * 3_600_000 }),
    { id: 'claude-key-stored', provider: 'claude', kind: 'api_key', api_key: storedKey, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' },
    oauthRecord({ id: 'broken', access_token: canary('a'), refresh_token: canary('r') }),
  ]);
  const originalRead = store.read.bind(store);
  store.read = (id) => (id === 'broken' ? Promise.reject(new Error('broken.json: authentication tag mismatch')) : originalRead(id));
  const logger = captureLogger();
  const state = new MemoryStateBackend();
  const runtime = await startOAuthRuntime({ config: () => config, store, logger, state });
  try {
    expect(runtime.credentialsByProvider.get('claude')?.map((credential) => `${credential.id}:${credential.kind}`).sort()).toEqual([
      'claude-key-stored:api_key',
      'claude-oauth-1:oauth',
    ]);
    expect(logger.lines.some((line) => line.includes('credential-load-fail') && line.includes('"credential_id":"broken"'))).toBe(true);
    expect(runtime.scheduler.dueAt('claude-oauth-1')).toBeGreaterThan(Date.now() + 3 * 3_600_000); // 8 h token, 4 h lead
    expect(redactText(`x ${storedKey} ${clientSecret}`)).toBe('x *** ***');
  } finally {
    await runtime.close();
    await state.close();
  }
});
