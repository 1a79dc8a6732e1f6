import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStub } from './__fixtures__/refresh-support.js';
import { createTokenHttpCall } from './refresh-http.js';

/**
 * The egress guard on the OAuth token call: a token URL whose host name resolves to loopback is
 * refused before the refresh token is sent (the stub sees no call), unless the provider sets
 * `allow_private_network` (carried on the request by `buildRefreshRequest`).
 */
const stub = new TokenStub();
beforeAll(() => stub.start());
afterAll(() => stub.stop());

/** The stub's URL with the host written as a name: `localhost` resolves to 127.0.0.1. */
const byName = () => stub.url.replace('127.0.0.1', 'localhost');
const tokenRequest = (allowPrivateNetwork: boolean) => ({
  url: byName(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: Buffer.from('grant_type=refresh_token&refresh_token=test-refresh-token-0001'),
  ...(allowPrivateNetwork ? { allowPrivateNetwork: true } : {}),
});

describe('token call egress guard', () => {
  it('refuses a token URL resolving to loopback, sending nothing', async () => {
    const before = stub.calls.length;
    const call = createTokenHttpCall();
    await expect(call(tokenRequest(false), AbortSignal.timeout(5_000))).rejects.toThrow(/refused by the egress guard: egress refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(stub.calls.length).toBe(before);
  });

  it('calls it when the provider allows private networks', async () => {
    const before = stub.calls.length;
    const answer = await createTokenHttpCall()(tokenRequest(true), AbortSignal.timeout(5_000));
    expect(answer.status).toBe(200);
    expect(stub.calls.length).toBe(before + 1);
  });
});
