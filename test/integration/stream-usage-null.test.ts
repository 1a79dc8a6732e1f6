import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/server/exchange.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Issue 14: "a client that did not ask for usage sees none". For a pass-through OpenAI stream the
 * gateway asks the upstream for usage on the client's behalf (usage accounting); the upstream then
 * closes every chunk with `"usage":null` and adds a usage chunk. The real `openai` SDK, not asking,
 * must get chunks without a `usage` member and no usage chunk, with content that itself spells
 * `,"usage":null}` relayed unchanged, and a member the upstream splits across two writes removed
 * whole; a client that asks gets the upstream's stream as it came. The gateway still records the usage.
 */
const literal = 'the text says ,"usage":null} and stays';
const chunk = (fields: Record<string, unknown>) => JSON.stringify({ id: 'chatcmpl-null-usage', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', ...fields });
const withNullUsage = (json: string) => `${json.slice(0, -1)},"usage":null}`;

/** The upstream's stream when asked for usage, as the writes it makes (a pause between them: separate reads). */
const askedWrites = [
  `data: ${withNullUsage(chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }))}\n\n`,
  `data: ${withNullUsage(chunk({ choices: [{ index: 0, delta: { content: literal }, finish_reason: null }] }))}\n\n`,
  // One event split inside its "usage":null member (`,"us` | `age":null}`).
  `data: ${withNullUsage(chunk({ choices: [{ index: 0, delta: { content: '!' }, finish_reason: null }] })).slice(0, -10)}`,
  `age":null}\n\ndata: ${withNullUsage(chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }))}\n\n`,
  `data: ${chunk({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } })}\n\ndata: [DONE]\n\n`,
];

let upstream: Server;
const receivedBodies: Record<string, unknown>[] = [];
const exchanges: Exchange[] = [];
let testGateway: TestGateway;

beforeAll(async () => {
  upstream = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
      receivedBodies.push(body);
      if ((body['stream_options'] as { include_usage?: unknown } | undefined)?.include_usage !== true) {
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"this stub streams only with include_usage","type":"invalid_request_error"}}');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      void (async () => {
        for (const write of askedWrites) {
          response.write(write);
          await delay(20);
        }
        response.end();
      })();
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as AddressInfo;
  testGateway = await startTestGateway({
    providers: { oai: { type: 'openai', base_url: `http://127.0.0.1:${port}/v1`, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] } },
    exchangeObservers: [{ name: 'test-recorder', end: (exchange) => void exchanges.push(exchange) }],
  });
});
afterAll(async () => {
  await testGateway.stop();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

const client = () => new OpenAI({ baseURL: `${testGateway.url}/v1`, apiKey: testGateway.clientKey, maxRetries: 0, timeout: 10_000 });

describe('a pass-through OpenAI stream for a client that did not ask for usage (the openai SDK)', () => {
  it('has no usage member in any chunk and no usage chunk; the text relayed unchanged; the gateway asked and recorded the usage', async () => {
    const stream = await client().chat.completions.create({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const received of stream) chunks.push(received);
    expect(chunks).toHaveLength(4);
    for (const received of chunks) expect(Object.keys(received)).not.toContain('usage');
    expect(chunks.map((received) => received.choices[0]?.delta.content ?? '').join('')).toBe(`${literal}!`);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(receivedBodies.at(-1)?.['stream_options']).toEqual({ include_usage: true });
    await expect.poll(() => exchanges.length).toBe(1);
    expect(exchanges[0]?.usage).toMatchObject({ inputTokens: 12, outputTokens: 7 });
  });

  it('the bytes: the upstream\'s minus each closing ,"usage":null and the usage chunk', async () => {
    const response = await fetch(`${testGateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testGateway.clientKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    const upstreamText = askedWrites.join('');
    const usageChunkStart = upstreamText.indexOf('data: {"id":"chatcmpl-null-usage","object":"chat.completion.chunk","created":1,"model":"gpt-test","choices":[]');
    const expected = upstreamText.slice(0, usageChunkStart).replaceAll(',"usage":null}\n\n', '}\n\n') + 'data: [DONE]\n\n';
    expect(text).toBe(expected);
    expect(text).toContain(JSON.stringify(literal).slice(1, -1));
  });
});

describe('a client that asked for usage', () => {
  it('gets the upstream\'s stream as it came: "usage":null on every chunk, then the usage chunk', async () => {
    const stream = await client().chat.completions.create({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const received of stream) chunks.push(received);
    expect(chunks).toHaveLength(5);
    for (const received of chunks.slice(0, -1)) expect(received.usage).toBeNull();
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } });
  });
});
