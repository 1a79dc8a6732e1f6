import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { anthropicOAuthProfile } from '../providers/anthropic/oauth.js';
import type { UpstreamCredential } from '../providers/types.js';
import { MemoryStateBackend } from '../state/memory.js';
import { CredentialRefresher } from './refresh.js';
import { sendWithFreshCredential } from './refresh-retry.js';
import { canary, MemoryCredentialStore, oauthRecord, TokenStub } from './__fixtures__/refresh-support.js';

describe('sendWithFreshCredential', () => {
  let stub: TokenStub;
  beforeEach(async () => {
    stub = new TokenStub();
    await stub.start();
  });
  afterEach(async () => {
    await stub.stop();
  });

  async function setup() {
    const revoked = canary('revoked-access');
    const store = new MemoryCredentialStore([
      oauthRecord({ id: 'claude-oauth-1', access_token: revoked, refresh_token: canary('refresh'), expires_at: Date.now() + 5 * 3_600_000 }),
    ]);
    const refresher = new CredentialRefresher({ store, state: new MemoryStateBackend(), profileFor: () => ({ ...anthropicOAuthProfile, tokenUrl: stub.url }) });
    const credential = refresher.track(await store.read('claude-oauth-1'));
    return { revoked, refresher, credential };
  }

  it('an upstream 401 on an OAuth credential: one refresh, one retry with the new token', async () => {
    const { revoked, refresher, credential } = await setup();
    const sentWith: string[] = [];
    let discarded = 0;
    const response = await sendWithFreshCredential(
      refresher,
      credential,
      (used: UpstreamCredential) => {
        const token = used.kind === 'oauth' ? used.accessToken : '';
        sentWith.push(token);
        return Promise.resolve({ statusCode: token === revoked ? 401 : 200 });
      },
      () => {
        discarded += 1;
        return Promise.resolve();
      },
    );
    expect(response.statusCode).toBe(200);
    expect(stub.calls).toHaveLength(1);
    expect(discarded).toBe(1);
    expect(sentWith).toEqual([revoked, stub.issued[0]!.accessToken]);
  });

  it('a second 401 is returned as it is: no refresh loop', async () => {
    const { refresher, credential } = await setup();
    let sends = 0;
    const response = await sendWithFreshCredential(
      refresher,
      credential,
      () => {
        sends += 1;
        return Promise.resolve({ statusCode: 401 });
      },
      () => Promise.resolve(),
    );
    expect(response.statusCode).toBe(401);
    expect(sends).toBe(2);
    expect(stub.calls).toHaveLength(1);
  });

  it('API keys are sent once, 401 or not', async () => {
    const { refresher } = await setup();
    let sends = 0;
    const apiKey: UpstreamCredential = { id: 'k', provider: 'claude', priority: 0, kind: 'api_key', apiKey: 'test-upstream-key-0001' };
    const response = await sendWithFreshCredential(refresher, apiKey, () => Promise.resolve({ statusCode: (sends += 1) && 401 }), () => Promise.resolve());
    expect(response.statusCode).toBe(401);
    expect(sends).toBe(1);
    expect(stub.calls).toHaveLength(0);
  });
});
