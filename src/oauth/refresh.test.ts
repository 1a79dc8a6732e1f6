import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGatewayError, type GatewayError } from '../errors/gateway-error.js';
import { anthropicOAuthProfile } from '../providers/anthropic/oauth.js';
import type { OAuthProfile } from '../providers/oauth-grant.js';
import type { ApiKeyCredential, UpstreamCredential } from '../providers/types.js';
import { CredentialPool } from '../routing/credential-pool.js';
import { runWithFailover } from '../routing/failover.js';
import { clearRegisteredSecrets, redactText } from '../security/redact.js';
import { MemoryStateBackend } from '../state/memory.js';
import { CredentialRefresher } from './refresh.js';
import { RefreshScheduler } from './refresh-scheduler.js';
import { canary, captureLogger, MemoryCredentialStore, oauthRecord, TokenStub } from './__fixtures__/refresh-support.js';

const hour = 3_600_000;

async function rejectionOf(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (isGatewayError(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('CredentialRefresher', () => {
  let stub: TokenStub;
  let oldAccess: string;
  let oldRefresh: string;
  let store: MemoryCredentialStore;
  let logger: ReturnType<typeof captureLogger>;

  const profile = (): OAuthProfile => ({ ...anthropicOAuthProfile, tokenUrl: stub.url });
  const makeRefresher = (options: { timeoutMs?: number; state?: MemoryStateBackend } = {}) =>
    new CredentialRefresher({
      store,
      state: options.state ?? new MemoryStateBackend(),
      profileFor: (provider) => (provider === 'claude' ? profile() : undefined),
      logger,
      timeoutMs: options.timeoutMs ?? 5_000,
      pollIntervalMs: 20,
    });

  beforeEach(async () => {
    clearRegisteredSecrets();
    stub = new TokenStub();
    await stub.start();
    oldAccess = canary('old-access');
    oldRefresh = canary('old-refresh');
    store = new MemoryCredentialStore([oauthRecord({ id: 'claude-oauth-1', access_token: oldAccess, refresh_token: oldRefresh, expires_at: Date.now() - 1_000 })]);
    logger = captureLogger();
  });

  afterEach(async () => {
    await stub.stop();
  });

  it('100 concurrent requests on an expired credential make exactly one token call and all get the new token', async () => {
    stub.delayMs = 100;
    const refresher = makeRefresher();
    const credential = refresher.track(await store.read('claude-oauth-1'));
    const results = await Promise.all(Array.from({ length: 100 }, () => refresher.ensureFresh(credential)));
    expect(stub.calls).toHaveLength(1);
    const issued = stub.issued[0]!;
    for (const result of results) expect(result.kind === 'oauth' && result.accessToken).toBe(issued.accessToken);
    expect(credential.accessToken).toBe(issued.accessToken); // the pool's object is updated in place
    // Claude Code's body: JSON with the refresh_token grant and its client id.
    expect(stub.calls[0]!.contentType).toBe('application/json');
    expect(JSON.parse(stub.calls[0]!.body)).toEqual({ grant_type: 'refresh_token', refresh_token: oldRefresh, client_id: anthropicOAuthProfile.clientId });
    // A fresh token is used as it is: no second call.
    await refresher.ensureFresh(credential);
    expect(stub.calls).toHaveLength(1);
  });

  it('persists the rotated tokens before handing them out', async () => {
    const refresher = makeRefresher();
    const credential = refresher.track(await store.read('claude-oauth-1'));
    const seenAtWrite: string[] = [];
    const originalWrite = store.write.bind(store);
    store.write = async (record) => {
      seenAtWrite.push(credential.accessToken); // what a request would use at the moment of the write
      await originalWrite(record);
    };
    const fresh = await refresher.ensureFresh(credential);
    const issued = stub.issued[0]!;
    expect(seenAtWrite).toEqual([oldAccess]); // during the write the new token was not in use yet
    const stored = await store.read('claude-oauth-1');
    expect(stored.access_token).toBe(issued.accessToken);
    expect(stored.refresh_token).toBe(issued.refreshToken);
    expect(stored.expires_at).toBeGreaterThan(Date.now() + 7 * hour);
    expect(fresh.kind === 'oauth' && fresh.accessToken).toBe(issued.accessToken);
  });

  it('a failed write (crash right after the token call) hands nothing out and never loses the rotated refresh token', async () => {
    const refresher = makeRefresher();
    const credential = refresher.track(await store.read('claude-oauth-1'));
    store.failNextWrite = () => {
      throw new Error('simulated');
    };
    const error = await rejectionOf(refresher.ensureFresh(credential));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("credential 'claude-oauth-1'");
    expect(stub.calls).toHaveLength(1);
    expect(credential.accessToken).toBe(oldAccess); // the unpersisted token was not handed out
    expect((await store.read('claude-oauth-1')).access_token).toBe(oldAccess);

    // Next try (after the backoff): the kept tokens are written first, with NO new token call,
    // which would have burned the old single-use refresh token a second time.
    refresher.entry('claude-oauth-1')!.unavailableUntil = 0;
    const fresh = await refresher.ensureFresh(credential);
    expect(stub.calls).toHaveLength(1);
    const issued = stub.issued[0]!;
    expect(fresh.kind === 'oauth' && fresh.accessToken).toBe(issued.accessToken);
    expect((await store.read('claude-oauth-1')).refresh_token).toBe(issued.refreshToken);

    // And the refresh after that sends the rotated refresh token, not the old one.
    await refresher.refresh('claude-oauth-1');
    expect(JSON.parse(stub.calls[1]!.body).refresh_token).toBe(issued.refreshToken);
  });

  it('a token endpoint that never answers hits the deadline; the credential becomes unavailable and failover uses the next one', async () => {
    stub.mode = 'hang';
    const refresher = makeRefresher({ timeoutMs: 200 });
    const oauth = refresher.track(await store.read('claude-oauth-1'));
    const apiKey: ApiKeyCredential = { id: 'claude-key-1', provider: 'claude', priority: 1, kind: 'api_key', apiKey: 'test-upstream-key-0001' };
    const pool = new CredentialPool([oauth, apiKey], { now: Date.now });
    const used: string[] = [];
    const started = Date.now();
    const result = await runWithFailover({
      pool,
      provider: 'claude',
      maxAttempts: 2,
      attempt: async (credential: UpstreamCredential) => {
        const fresh = await refresher.ensureFresh(credential);
        used.push(fresh.id);
        return fresh.id;
      },
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result).toBe('claude-key-1');
    expect(used).toEqual(['claude-key-1']);
    expect(stub.calls).toHaveLength(1);
    const snapshot = pool.snapshot().find((entry) => entry.id === 'claude-oauth-1')!;
    expect(snapshot.coolingUntil).toBeGreaterThan(Date.now()); // benched in the pool
    const status = refresher.status()[0]!;
    expect(status.unavailableUntil).toBeGreaterThan(Date.now()); // and in the refresher's backoff
    // During the backoff a request fails fast, without another token call.
    const error = await rejectionOf(refresher.ensureFresh(oauth));
    expect(error.code).toBe('GW_UPSTREAM_TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(stub.calls).toHaveLength(1);
  });

  it('a rejected refresh token (invalid_grant) is an auth failure, without token text in the error', async () => {
    stub.mode = 'invalid_grant';
    const refresher = makeRefresher();
    const credential = refresher.track(await store.read('claude-oauth-1'));
    const error = await rejectionOf(refresher.ensureFresh(credential));
    expect(error.code).toBe('GW_UPSTREAM_AUTH_FAILED');
    expect(error.message).toContain('invalid_grant');
    expect(error.message).not.toContain(oldRefresh);
  });

  it('an upstream 401 triggers one refresh; a later 401 with the already replaced token does not', async () => {
    store.records.get('claude-oauth-1')!.expires_at = Date.now() + 5 * hour; // not expiring: only the 401 says it is bad
    const refresher = makeRefresher();
    const credential = refresher.track(await store.read('claude-oauth-1'));
    const [first, second] = await Promise.all([
      refresher.refreshAfterRejection('claude-oauth-1', oldAccess),
      refresher.refreshAfterRejection('claude-oauth-1', oldAccess),
    ]);
    expect(stub.calls).toHaveLength(1);
    expect(first?.accessToken).toBe(stub.issued[0]!.accessToken);
    expect(second?.accessToken).toBe(stub.issued[0]!.accessToken);
    await refresher.refreshAfterRejection('claude-oauth-1', oldAccess);
    expect(stub.calls).toHaveLength(1);
    expect(credential.accessToken).toBe(stub.issued[0]!.accessToken);
  });

  it('two refreshers sharing one state backend (two replicas) make one token call; the other adopts from the store', async () => {
    stub.delayMs = 150;
    const state = new MemoryStateBackend();
    const first = makeRefresher({ state });
    const second = makeRefresher({ state });
    const record = await store.read('claude-oauth-1');
    const [a, b] = await Promise.all([first.ensureFresh(first.track(record)), second.ensureFresh(second.track(record))]);
    expect(stub.calls).toHaveLength(1);
    expect(a.kind === 'oauth' && a.accessToken).toBe(stub.issued[0]!.accessToken);
    expect(b.kind === 'oauth' && b.accessToken).toBe(stub.issued[0]!.accessToken);
    expect(logger.lines.some((line) => line.includes('"outcome":"adopted"'))).toBe(true);
  });

  it('when the replica holding the lock fails, the waiting one fails too instead of calling again', async () => {
    stub.mode = 'hang';
    const state = new MemoryStateBackend();
    const first = makeRefresher({ state, timeoutMs: 300 });
    const second = makeRefresher({ state, timeoutMs: 300 });
    const record = await store.read('claude-oauth-1');
    const outcomes = await Promise.allSettled([first.ensureFresh(first.track(record)), second.ensureFresh(second.track(record))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(stub.calls).toHaveLength(1);
  });

  it('after a failed scheduled refresh the scheduler waits for the backoff instead of looping', async () => {
    stub.mode = 'server_error';
    store.records.get('claude-oauth-1')!.expires_at = Date.now() + 4 * hour; // due now
    const refresher = makeRefresher();
    refresher.track(await store.read('claude-oauth-1'));
    const scheduler = new RefreshScheduler({ refresher, leadMsFor: () => anthropicOAuthProfile.refreshLeadMs });
    scheduler.start();
    try {
      for (let waited = 0; refresher.status()[0]!.consecutiveFailures === 0 && waited < 3_000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(stub.calls).toHaveLength(1);
      expect(scheduler.dueAt('claude-oauth-1')!).toBeGreaterThanOrEqual(Date.now() + 25_000); // 30 s first backoff step
    } finally {
      scheduler.stop();
    }
  });

  it('canary tokens never appear in a log line or error message, and are registered with the redactor', async () => {
    const refresher = makeRefresher({ timeoutMs: 200 });
    const credential = refresher.track(await store.read('claude-oauth-1'));
    await refresher.ensureFresh(credential);
    stub.mode = 'invalid_grant';
    const rejected = await rejectionOf(refresher.refresh('claude-oauth-1'));
    stub.mode = 'hang';
    refresher.entry('claude-oauth-1')!.unavailableUntil = 0;
    const timedOut = await rejectionOf(refresher.refresh('claude-oauth-1'));
    const secrets = [oldAccess, oldRefresh, stub.issued[0]!.accessToken, stub.issued[0]!.refreshToken];
    const everything = [...logger.lines, rejected.message, timedOut.message, JSON.stringify(refresher.status())].join('\n');
    expect(logger.lines.length).toBeGreaterThanOrEqual(6);
    for (const secret of secrets) {
      expect(everything).not.toContain(secret);
      expect(redactText(`upstream said ${secret}`)).toBe('upstream said ***');
    }
  });

  it('the background scheduler refreshes a credential its lead time before expiry, with no request', async () => {
    store.records.get('claude-oauth-1')!.expires_at = Date.now() + 4 * hour + 100; // due in ~100 ms with Claude's 4 h lead
    const refresher = makeRefresher();
    const credential = refresher.track(await store.read('claude-oauth-1'));
    const scheduler = new RefreshScheduler({ refresher, leadMsFor: () => anthropicOAuthProfile.refreshLeadMs });
    scheduler.start();
    try {
      for (let waited = 0; stub.calls.length === 0 && waited < 3_000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(stub.calls).toHaveLength(1);
      for (let waited = 0; credential.accessToken === oldAccess && waited < 1_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(credential.accessToken).toBe(stub.issued[0]!.accessToken);
      // Next run: 4 h before the new expiry (about 4 h from now), not a loop.
      expect(scheduler.dueAt('claude-oauth-1')!).toBeGreaterThan(Date.now() + 3 * hour);
    } finally {
      scheduler.stop();
    }
  });

  it('API keys and untracked credentials pass through untouched', async () => {
    const refresher = makeRefresher();
    const apiKey: ApiKeyCredential = { id: 'k', provider: 'claude', priority: 0, kind: 'api_key', apiKey: 'test-upstream-key-0001' };
    expect(await refresher.ensureFresh(apiKey)).toBe(apiKey);
    expect(stub.calls).toHaveLength(0);
  });
});
