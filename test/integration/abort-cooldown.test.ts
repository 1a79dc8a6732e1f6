import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * A client that hangs up must not cost the gateway a credential. Regression: an aborted request
 * was mapped to "upstream unreachable" and put the provider's only key in a 60 s cooldown, so
 * every later request got 503 GW_NO_CREDENTIAL_AVAILABLE (found by the benchmark, where wrk
 * closes its connections mid-request at the end of each run).
 */
/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('client abort and credential cooldown', () => {
  let setup: StandardSetup;

  beforeAll(async () => {
    setup = await startStandardSetup({ openaiKeys: ['test-upstream-key-only-one'] });
  });
  afterAll(async () => setup?.stop());

  const chat = (signal?: AbortSignal) =>
    fetch(`${setup.testGateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${setup.testGateway.clientKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
      ...(signal ? { signal } : {}),
    });

  it('keeps the only key usable after clients abort requests while the upstream is still working', async () => {
    for (let round = 0; round < 3; round++) {
      setup.openaiStub.hangNext();
      // Abort only once the upstream holds the request: a fixed delay can fire before the request
      // reaches the stub on a loaded machine, leaving the queued hang for the next request.
      const seenBefore = setup.openaiStub.requests.length;
      const controller = new AbortController();
      const pending = chat(controller.signal);
      await waitFor(() => setup.openaiStub.requests.length > seenBefore, 10_000);
      controller.abort();
      await expect(pending).rejects.toThrow();
    }
    // Give the gateway a moment to observe the closed sockets.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await chat();
    expect(after.status).toBe(200);
    expect(setup.testGateway.logs.some((line) => line.includes('GW_NO_CREDENTIAL_AVAILABLE'))).toBe(false);
    expect(setup.testGateway.logs.some((line) => line.includes('"level":50'))).toBe(false);
  });
});
