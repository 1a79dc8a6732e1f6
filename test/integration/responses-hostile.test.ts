import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { parseSseText, post } from '../helpers/http.js';

/**
 * POST /v1/responses against hostile input and a hostile upstream: malformed items, a body over the
 * limit, duplicate keys, nesting past the depth bound, max_output_tokens over the cap, and upstreams
 * that echo their key in a stream error (OpenAI chat and Anthropic, translated). Every refusal is in
 * OpenAI's error shape; no upstream key reaches the client.
 */
const upstreamKeys = ['test-hostile-key-0101-abcdefghij', 'test-hostile-key-0102-abcdefghij'];

type Handler = (path: string, apiKey: string, response: ServerResponse) => void;

let closeStub: (() => Promise<void>) | undefined;
let testGateway: TestGateway | undefined;
afterEach(async () => {
  await testGateway?.stop();
  await closeStub?.();
  testGateway = undefined;
  closeStub = undefined;
});

async function start(handler: Handler): Promise<TestGateway> {
  const sockets = new Set<Socket>();
  const server = createServer((incoming, response) => {
    incoming.resume();
    incoming.on('end', () => {
      const apiKey = (incoming.headers['x-api-key'] as string | undefined) ?? (incoming.headers.authorization ?? '').replace(/^Bearer /i, '');
      handler(incoming.url ?? '/', apiKey, response);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closeStub = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  testGateway = await startTestGateway({
    providers: {
      oai: { type: 'openai', base_url: `${baseUrl}/v1`, api_keys: upstreamKeys, models: [{ name: 'gpt-test' }] },
      ant: { type: 'anthropic', base_url: baseUrl, api_keys: upstreamKeys, models: [{ name: 'claude-test' }] },
    },
    extra: { server: { validation: { max_tokens: 1000 } } },
  });
  return testGateway;
}

const never: Handler = (_path, _key, response) => response.destroy();

function responses(gateway: TestGateway, body: unknown): ReturnType<typeof post> {
  return post(`${gateway.url}/v1/responses`, body, { authorization: `Bearer ${gateway.clientKey}` });
}

function expectOpenAIError(answer: Awaited<ReturnType<typeof post>>, status: number, code: string): string {
  expect(answer.status).toBe(status);
  const error = (answer.json as { error: { message: string; type: string; code: string } }).error;
  expect(error.code).toBe(code);
  expect(typeof error.type).toBe('string');
  return error.message;
}

describe('POST /v1/responses refuses hostile bodies in the OpenAI error shape', () => {
  it('malformed items: a function_call without call_id, a message without role, input of the wrong type', async () => {
    const gateway = await start(never);
    const noCallId = await responses(gateway, { model: 'gpt-test', input: [{ type: 'function_call', name: 'f', arguments: '{}' }] });
    expect(expectOpenAIError(noCallId, 400, 'GW_INVALID_REQUEST')).toMatch(/input/);
    const noRole = await responses(gateway, { model: 'gpt-test', input: [{ type: 'message', content: 'hi' }] });
    expectOpenAIError(noRole, 400, 'GW_INVALID_REQUEST');
    expectOpenAIError(await responses(gateway, { model: 'gpt-test', input: 42 }), 400, 'GW_INVALID_REQUEST');
    expectOpenAIError(await responses(gateway, { model: 'gpt-test', input: [{ role: 'user', content: [{ type: 'input_text' }] }] }), 400, 'GW_INVALID_REQUEST');
  });

  it('an item type only a Responses upstream knows is refused by name when translated', async () => {
    const gateway = await start(never);
    const answer = await responses(gateway, { model: 'claude-test', input: [{ type: 'local_shell_call', id: 'ls_1', call_id: 'c', action: {} }] });
    expect(expectOpenAIError(answer, 400, 'GW_UNSUPPORTED_CONTENT')).toMatch(/local_shell_call/);
  });

  it('a body over the limit is 413, duplicate keys and nesting past the bound are 400 GW_INVALID_JSON', async () => {
    const gateway = await start(never);
    const huge = JSON.stringify({ model: 'gpt-test', input: 'x'.repeat(2 * 1024 * 1024) });
    expectOpenAIError(await responses(gateway, huge), 413, 'GW_BODY_TOO_LARGE');
    const duplicate = '{"model":"gpt-test","input":"hi","input":[{"type":"function_call_output","call_id":"c","output":"x"}]}';
    expectOpenAIError(await responses(gateway, duplicate), 400, 'GW_INVALID_JSON');
    const deep = `{"model":"gpt-test","input":"hi","metadata":${'{"a":'.repeat(200)}1${'}'.repeat(200)}}`;
    expectOpenAIError(await responses(gateway, deep), 400, 'GW_INVALID_JSON');
  });

  it('max_output_tokens over server.validation.max_tokens is a 400 naming the field, never a clamp', async () => {
    const gateway = await start(never);
    const message = expectOpenAIError(await responses(gateway, { model: 'gpt-test', input: 'hi', max_output_tokens: 5000 }), 400, 'GW_MAX_TOKENS_EXCEEDED');
    expect(message).toMatch(/max_output_tokens 5000/);
  });
});

describe('an upstream that echoes its key in a stream error', () => {
  it.each([
    ['OpenAI chat', 'gpt-test'],
    ['Anthropic', 'claude-test'],
  ])('%s: the client gets response.failed with the key masked', async (_name, model) => {
    const gateway = await start((path, apiKey, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      if (path.startsWith('/v1/messages')) {
        response.write(`event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","model":"claude-test","usage":{"input_tokens":3,"output_tokens":1}}}\n\n`);
        response.write(`event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n`);
        response.write(`event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"partial"}}\n\n`);
        response.end(`event: error\ndata: {"type":"error","error":{"type":"api_error","message":"invalid key ${apiKey} for this account"}}\n\n`);
      } else {
        response.write(`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-test","choices":[{"index":0,"delta":{"content":"partial"}}]}\n\n`);
        response.end(`data: {"error":{"message":"invalid key ${apiKey} for this account","type":"server_error"}}\n\n`);
      }
    });
    const answer = await responses(gateway, { model, input: 'hi', stream: true });
    expect(answer.status).toBe(200);
    for (const key of upstreamKeys) expect(answer.text).not.toContain(key.slice(0, 16));
    const events = parseSseText(answer.text);
    const names = events.map((event) => event.event);
    expect(names).toContain('response.output_text.delta');
    expect(names.at(-1)).toBe('response.failed');
    const failed = JSON.parse(events.at(-1)?.data ?? '{}') as { sequence_number: number; response: { status: string; error: { code: string; message: string } } };
    expect(failed.response.status).toBe('failed');
    expect(failed.response.error.code).toBe('GW_UPSTREAM_STREAM_FAILED');
    expect(failed.sequence_number).toBe(events.length - 1);
    expect(gateway.logs.join('\n')).not.toContain(upstreamKeys[0]);
  });
});
