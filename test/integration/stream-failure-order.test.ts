import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestProviderConfig } from '../helpers/gateway.js';
import { parseSseText } from '../helpers/http.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * Issue 8: text the upstream streamed before a mid-stream error must reach the client, in order,
 * then the error. The stub sends the first frames and its in-stream error in ONE write, as a
 * replayed recording (or a busy upstream) delivers them: one TCP piece holding text and error.
 * Every (client surface, upstream format) pair goes through the real HTTP path. Each pair has a
 * single-key provider of its own, so the cooldown of one case cannot turn another into a 503.
 */
type Side = 'openai' | 'anthropic';
const sides: Side[] = ['openai', 'anthropic'];

/** Frames before the error: through the third text delta of each recorded text stream. */
const framesBeforeError: Record<Side, number> = { openai: 4, anthropic: 6 };
const textBeforeError: Record<Side, string> = { openai: 'Hello from the OpenAI', anthropic: 'Hello from the Anthropic' };

let setup: StandardSetup;
beforeAll(async () => {
  setup = await startStandardSetup({
    extraProviders: ({ openaiStub, anthropicStub }) => {
      const providers: Record<string, TestProviderConfig> = {};
      for (const upstream of sides) {
        for (const surface of sides) {
          const name = `order-${upstream}-${surface}`;
          const stub = upstream === 'openai' ? openaiStub : anthropicStub;
          providers[name] = { type: upstream, base_url: stub.baseUrl, api_keys: [`test-upstream-key-${name}`], models: [{ name: `${name}-model` }] };
        }
      }
      return providers;
    },
  });
});
afterAll(() => setup.stop());

async function streamedText(surface: Side, model: string): Promise<string> {
  const anthropic = surface === 'anthropic';
  const response = await fetch(`${setup.testGateway.url}${anthropic ? '/v1/messages' : '/v1/chat/completions'}`, {
    method: 'POST',
    headers: anthropic
      ? { 'content-type': 'application/json', 'x-api-key': setup.testGateway.clientKey, 'anthropic-version': '2023-06-01' }
      : { 'content-type': 'application/json', authorization: `Bearer ${setup.testGateway.clientKey}` },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }], ...(anthropic ? { max_tokens: 64 } : {}) }),
    signal: AbortSignal.timeout(5_000),
  });
  expect(response.status).toBe(200);
  return response.text();
}

describe.each(sides)('%s client', (surface) => {
  it.each(sides)('of an %s upstream gets the start and the text before the upstream error, then the error last', async (upstream) => {
    const name = `order-${upstream}-${surface}`;
    const stub = upstream === 'openai' ? setup.openaiStub : setup.anthropicStub;
    stub.errorEventMidStreamNext({ afterFrames: framesBeforeError[upstream], inOneWrite: true }, { whenKey: `test-upstream-key-${name}` });
    const text = await streamedText(surface, `${name}-model`);
    const events = parseSseText(text);
    const payloads = events.map((event) => JSON.parse(event.data) as Record<string, unknown>);
    if (surface === 'openai') {
      const chunks = payloads.slice(0, -1) as { choices: { delta: { role?: string; content?: string } }[] }[];
      expect(chunks[0]?.choices[0]?.delta.role, text).toBe('assistant');
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(textBeforeError[upstream]);
      expect(payloads.at(-1), 'the error comes last').toMatchObject({ error: { message: expect.any(String), type: expect.any(String) } });
      expect(text).not.toContain('[DONE]');
    } else {
      expect(events[0]?.event, text).toBe('message_start');
      const deltas = payloads.filter((payload) => payload['type'] === 'content_block_delta') as { delta: { text?: string } }[];
      expect(deltas.map((payload) => payload.delta.text ?? '').join('')).toBe(textBeforeError[upstream]);
      expect(events.at(-1)?.event, 'the error comes last').toBe('error');
      expect(events.filter((event) => event.event === 'error')).toHaveLength(1);
    }
  });
});
