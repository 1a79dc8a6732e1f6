import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors/gateway-error.js';
import type { ApiKeyCredential, UpstreamCredential } from '../providers/types.js';
import { CredentialPool } from './credential-pool.js';
import { runWithFailover } from './failover.js';

function key(id: string, priority = 0): ApiKeyCredential {
  return { id, provider: 'claude', priority, kind: 'api_key', apiKey: `test-upstream-key-${id}` };
}

function setup(credentials: UpstreamCredential[]) {
  let current = 1_700_000_000_000;
  const clock = { now: () => current, advance: (milliseconds: number) => (current += milliseconds) };
  return { pool: new CredentialPool(credentials, clock), clock };
}

const rateLimited = () => new GatewayError('GW_UPSTREAM_RATE_LIMITED', { provider: 'claude', retryable: true, retryAfterSeconds: 20 });
const badRequest = () => new GatewayError('GW_UPSTREAM_BAD_REQUEST', { provider: 'claude', retryable: false, status: 400 });

/** An attempt function that answers from a script per credential id, recording the order. */
function scripted(outcomes: Record<string, () => string | GatewayError | Error>) {
  const calls: string[] = [];
  const attempt = (credential: UpstreamCredential): Promise<string> => {
    calls.push(credential.id);
    const outcome = outcomes[credential.id]!();
    return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
  };
  return { calls, attempt };
}

describe('runWithFailover', () => {
  it('returns the first success and resets the failure count', async () => {
    const { pool } = setup([key('a')]);
    pool.reportFailure('a', 'rate_limited', 0);
    const { calls, attempt } = scripted({ a: () => 'ok' });
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 3, attempt })).resolves.toBe('ok');
    expect(calls).toEqual(['a']);
    expect(pool.snapshot()[0]!.consecutiveFailures).toBe(0);
  });

  it('fails over on a 429 to the second credential and cools the first', async () => {
    const { pool } = setup([key('a'), key('b')]);
    const { calls, attempt } = scripted({ a: rateLimited, b: () => 'from b' });
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 3, attempt })).resolves.toBe('from b');
    expect(calls).toEqual(['a', 'b']);
    expect(pool.snapshot().find((entry) => entry.id === 'a')!.coolingUntil).toBeDefined();
    expect(pool.earliestRecoveryMs()).toBe(20_000);
  });

  it('does not retry a non-retryable error and does not cool the credential', async () => {
    const { pool } = setup([key('a'), key('b')]);
    const { calls, attempt } = scripted({ a: badRequest, b: () => 'unused' });
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 3, attempt })).rejects.toMatchObject({ code: 'GW_UPSTREAM_BAD_REQUEST' });
    expect(calls).toEqual(['a']);
    expect(pool.earliestRecoveryMs()).toBeUndefined();
  });

  it('neither retries nor cools on a sent request that got no answer in time (not retryable)', async () => {
    const { pool } = setup([key('a'), key('b')]);
    const slow = () => new GatewayError('GW_UPSTREAM_TIMEOUT', { provider: 'claude', retryable: false });
    const { calls, attempt } = scripted({ a: slow, b: () => 'unused' });
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 3, attempt })).rejects.toMatchObject({ code: 'GW_UPSTREAM_TIMEOUT' });
    expect(calls).toEqual(['a']);
    expect(pool.earliestRecoveryMs()).toBeUndefined();
  });

  it('fails over on every 5xx but cools only the first credential of one request', async () => {
    const { pool } = setup([key('a'), key('b'), key('c')]);
    const serverError = () => new GatewayError('GW_UPSTREAM_ERROR', { provider: 'claude', retryable: true });
    const { calls, attempt } = scripted({ a: serverError, b: serverError, c: serverError });
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 3, attempt })).rejects.toMatchObject({ code: 'GW_UPSTREAM_ERROR' });
    expect(calls).toEqual(['a', 'b', 'c']);
    expect(pool.snapshot().filter((entry) => entry.coolingUntil !== undefined).map((entry) => entry.id)).toEqual(['a']);
  });

  it('stops at the second auth failure of one request and cools only the first credential', async () => {
    const { pool } = setup([key('a'), key('b'), key('c')]);
    const rejected = () => new GatewayError('GW_UPSTREAM_AUTH_FAILED', { provider: 'claude', retryable: true });
    const { calls, attempt } = scripted({ a: rejected, b: rejected, c: () => 'unused' });
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 3, attempt })).rejects.toMatchObject({ code: 'GW_UPSTREAM_AUTH_FAILED' });
    expect(calls).toEqual(['a', 'b']);
    expect(pool.snapshot().filter((entry) => entry.coolingUntil !== undefined).map((entry) => entry.id)).toEqual(['a']);
  });

  it('cools every credential that answers 429 (a fact about the credential, not the request)', async () => {
    const { pool } = setup([key('a'), key('b')]);
    const { attempt } = scripted({ a: rateLimited, b: rateLimited });
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 3, attempt })).rejects.toMatchObject({ code: 'GW_UPSTREAM_RATE_LIMITED' });
    expect(pool.snapshot().filter((entry) => entry.coolingUntil !== undefined)).toHaveLength(2);
  });

  it('rethrows a non-gateway error at once without cooldown', async () => {
    const { pool } = setup([key('a'), key('b')]);
    const { calls, attempt } = scripted({ a: () => new TypeError('bug'), b: () => 'unused' });
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 3, attempt })).rejects.toThrowError(TypeError);
    expect(calls).toEqual(['a']);
    expect(pool.earliestRecoveryMs()).toBeUndefined();
  });

  it('stops at maxAttempts and rethrows the last upstream error', async () => {
    const { pool } = setup([key('a'), key('b'), key('c')]);
    const last = new GatewayError('GW_UPSTREAM_OVERLOADED', { provider: 'claude', retryable: true });
    const { calls, attempt } = scripted({ a: rateLimited, b: () => last, c: () => 'unused' });
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 2, attempt })).rejects.toBe(last);
    expect(calls).toEqual(['a', 'b']);
  });

  it('never tries the same credential twice in one request', async () => {
    const { pool } = setup([key('a')]);
    const error = new GatewayError('GW_UPSTREAM_AUTH_FAILED', { provider: 'claude', retryable: true });
    const { calls, attempt } = scripted({ a: () => error });
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 5, attempt })).rejects.toBe(error);
    expect(calls).toEqual(['a']);
  });

  it('answers GW_NO_CREDENTIAL_AVAILABLE with Retry-After when every credential is cooling', async () => {
    const { pool, clock } = setup([key('a'), key('b')]);
    pool.reportFailure('a', 'rate_limited', 20);
    pool.reportFailure('b', 'server_error');
    clock.advance(500);
    const { calls, attempt } = scripted({ a: () => 'unused', b: () => 'unused' });
    const failure = runWithFailover({ pool, provider: 'claude', maxAttempts: 3, attempt });
    await expect(failure).rejects.toMatchObject({ code: 'GW_NO_CREDENTIAL_AVAILABLE', provider: 'claude', status: 503, retryAfterSeconds: 20 });
    expect(calls).toEqual([]);
  });

  it('says so when the provider has no credential at all', async () => {
    const { pool } = setup([]);
    const { attempt } = scripted({});
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 3, attempt })).rejects.toMatchObject({
      code: 'GW_NO_CREDENTIAL_AVAILABLE',
      message: "Provider 'claude' has no usable credential.",
      retryAfterSeconds: undefined,
    });
  });

  it('stops retrying once the client aborts', async () => {
    const { pool } = setup([key('a'), key('b')]);
    const controller = new AbortController();
    const first = rateLimited();
    const { calls, attempt } = scripted({
      a: () => {
        controller.abort();
        return first;
      },
      b: () => 'unused',
    });
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 3, signal: controller.signal, attempt })).rejects.toBe(first);
    expect(calls).toEqual(['a']);
  });

  it('makes no attempt when the signal is already aborted', async () => {
    const { pool } = setup([key('a')]);
    const controller = new AbortController();
    controller.abort();
    const { calls, attempt } = scripted({ a: () => 'unused' });
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 3, signal: controller.signal, attempt })).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toEqual([]);
  });

  it('rejects a maxAttempts below 1', async () => {
    const { pool } = setup([key('a')]);
    await expect(runWithFailover({ pool, provider: 'claude', maxAttempts: 0, attempt: () => Promise.resolve('x') })).rejects.toThrowError(RangeError);
  });
});
