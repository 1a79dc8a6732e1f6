import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGeminiStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { openaiClientFor } from '../helpers/standard-setup.js';

/**
 * The Responses row of the Gemini column: the `openai` SDK's `responses.create` against a Gemini
 * stub upstream, through the composed bridge (Responses → chat → Gemini), streamed and not.
 */
let stub: StubUpstream;
let testGateway: TestGateway;
let client: OpenAI;
beforeAll(async () => {
  stub = await startGeminiStub();
  testGateway = await startTestGateway({ providers: { gem: { type: 'gemini', base_url: stub.baseUrl, api_keys: ['test-upstream-key-0401'], models: [{ name: 'gemini-test' }] } } });
  client = openaiClientFor(testGateway);
});
afterAll(async () => {
  await testGateway.stop();
  await stub.close();
});

describe('openai SDK responses.create → gemini upstream', () => {
  it('answers text non-streamed', async () => {
    const response = await client.responses.create({ model: 'gemini-test', instructions: 'You are terse.', input: 'Hi' });
    expect(response.output_text).toBe('Hello from the Gemini stub.');
    expect(stub.requests.at(-1)?.path).toContain(':generateContent');
  });

  it('streams text as typed events ending in response.completed', async () => {
    const stream = await client.responses.create({ model: 'gemini-test', input: 'Hi', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events[0]?.type).toBe('response.created');
    expect(events.at(-1)?.type).toBe('response.completed');
    expect(events.map((event) => (event.type === 'response.output_text.delta' ? event.delta : '')).join('')).not.toBe('');
  });
});
