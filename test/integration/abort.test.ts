import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * A client that goes away must cost the upstream nothing more: the gateway aborts its upstream
 * request. The stub stalls after a few frames (socket open, nothing more to say), the client aborts,
 * and the stub must see its own request closed within about a second.
 */
let setup: StandardSetup;
beforeAll(async () => {
  setup = await startStandardSetup();
});
afterAll(() => setup.stop());
beforeEach(() => {
  setup.openaiStub.reset();
  setup.anthropicStub.reset();
});

const closeWithinMs = 1_500;

describe('client abort reaches the upstream', () => {
  it('OpenAI SDK stream → OpenAI upstream', async () => {
    setup.openaiStub.stallMidStreamNext({ afterFrames: 2 });
    const controller = new AbortController();
    const stream = await setup.openaiClient.chat.completions.create(
      { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { signal: controller.signal },
    );
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    controller.abort();
    const closed = await setup.openaiStub.waitForRequestClosed(closeWithinMs);
    expect(closed.path).toBe('/v1/chat/completions');
  });

  it('Anthropic SDK stream → Anthropic upstream', async () => {
    setup.anthropicStub.stallMidStreamNext({ afterFrames: 4 });
    const controller = new AbortController();
    const stream = await setup.anthropicClient.messages.create(
      { model: 'claude-test', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true },
      { signal: controller.signal },
    );
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: 'message_start' });
    controller.abort();
    const closed = await setup.anthropicStub.waitForRequestClosed(closeWithinMs);
    expect(closed.path).toBe('/v1/messages');
  });

  it('raw fetch stream, OpenAI surface → Anthropic upstream (translated stream)', async () => {
    setup.anthropicStub.stallMidStreamNext({ afterFrames: 4 });
    const controller = new AbortController();
    const response = await fetch(`${setup.testGateway.url}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { authorization: `Bearer ${setup.testGateway.clientKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-test', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();
    await setup.anthropicStub.waitForRequestClosed(closeWithinMs);
  });

  it('non-streamed request waiting on a silent upstream', async () => {
    setup.openaiStub.hangNext();
    const controller = new AbortController();
    const pending = fetch(`${setup.testGateway.url}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { authorization: `Bearer ${setup.testGateway.clientKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
    });
    // Wait until the gateway's upstream request has arrived before leaving.
    const deadline = Date.now() + 2_000;
    while (setup.openaiStub.requests.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(setup.openaiStub.requests).toHaveLength(1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await setup.openaiStub.waitForRequestClosed(closeWithinMs);
  });
});
