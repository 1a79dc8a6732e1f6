import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { post } from '../helpers/http.js';

/**
 * A hostile or broken upstream (issue #9, "the upstream side"): it echoes its key in streams and
 * answers, pads error messages so a key straddles the cut, answers slowly, refuses one request on
 * every key, and answers redirects or HTML. Each test runs its own stub and gateway: cooldowns are
 * state. The stub answers through a handler per test, with the upstream key it received.
 */

interface HostileRequest {
  path: string;
  body: Record<string, unknown>;
  apiKey: string;
}

type Handler = (request: HostileRequest, response: ServerResponse) => void | Promise<void>;

interface HostileStub {
  baseUrl: string;
  requests: HostileRequest[];
  close(): Promise<void>;
}

async function startHostileStub(handler: Handler): Promise<HostileStub> {
  const requests: HostileRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    const pieces: Buffer[] = [];
    incoming.on('data', (piece: Buffer) => pieces.push(piece));
    incoming.on('end', () => {
      const authorization = incoming.headers.authorization ?? '';
      const apiKey = (incoming.headers['x-api-key'] as string | undefined) ?? authorization.replace(/^Bearer /i, '');
      const request = { path: incoming.url ?? '/', body: JSON.parse(Buffer.concat(pieces).toString('utf8')) as Record<string, unknown>, apiKey };
      requests.push(request);
      void Promise.resolve(handler(request, response)).catch(() => response.destroy());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Distinct, obviously fake upstream keys, long enough to be registered with the redactor. */
const upstreamKeys = ['test-hostile-key-0001-abcdefghij', 'test-hostile-key-0002-abcdefghij', 'test-hostile-key-0003-abcdefghij'];

const okChat = (model: string) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});

let stub: HostileStub | undefined;
let testGateway: TestGateway | undefined;
afterEach(async () => {
  await testGateway?.stop();
  await stub?.close();
  testGateway = undefined;
  stub = undefined;
});

async function start(handler: Handler, options: { keys?: number; extra?: Record<string, unknown> } = {}): Promise<{ stub: HostileStub; testGateway: TestGateway }> {
  stub = await startHostileStub(handler);
  const api_keys = upstreamKeys.slice(0, options.keys ?? 2);
  testGateway = await startTestGateway({
    providers: {
      oai: { type: 'openai', base_url: `${stub.baseUrl}/v1`, api_keys, models: [{ name: 'gpt-test' }] },
      ant: { type: 'anthropic', base_url: stub.baseUrl, api_keys, models: [{ name: 'claude-test' }] },
    },
    extra: options.extra ?? {},
  });
  return { stub, testGateway };
}

function chat(gateway: TestGateway, extra: Record<string, unknown> = {}): ReturnType<typeof post> {
  return post(`${gateway.url}/v1/chat/completions`, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...extra }, {
    authorization: `Bearer ${gateway.clientKey}`,
  });
}

function messages(gateway: TestGateway, extra: Record<string, unknown> = {}, path = '/v1/messages'): ReturnType<typeof post> {
  return post(`${gateway.url}${path}`, { model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], ...extra }, {
    'x-api-key': gateway.clientKey,
    'anthropic-version': '2023-06-01',
  });
}

function expectNoKey(text: string): void {
  for (const key of upstreamKeys) expect(text).not.toContain(key.slice(0, 12));
}

describe('a same-format upstream echoing its key', () => {
  it('has the key masked in an OpenAI stream, even cut across two upstream pieces', async () => {
    const { testGateway: gateway } = await start(async (request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'hi' } }] })}\n\n`);
      const event = `data: ${JSON.stringify({ error: { message: `Incorrect API key provided: ${request.apiKey}` } })}\n\n`;
      const cut = event.indexOf(request.apiKey) + 9;
      response.write(event.slice(0, cut));
      await delay(30); // two TCP pieces
      response.end(event.slice(cut));
    });
    const answer = await chat(gateway, { stream: true });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('Incorrect API key provided: ***');
    expectNoKey(answer.text);
  });

  it('has the key masked in an Anthropic stream and in non-streamed answers of both surfaces', async () => {
    const { testGateway: gateway } = await start((request, response) => {
      if (request.body.stream === true) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `bad key ${request.apiKey}` } })}\n\n`);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      const echoed = { ...okChat('gpt-test'), system_fingerprint: request.apiKey };
      response.end(JSON.stringify(request.path.startsWith('/v1/messages') ? { type: 'message', role: 'assistant', content: [], note: request.apiKey } : echoed));
    });
    const streamed = await messages(gateway, { stream: true });
    expect(streamed.text).toContain('bad key ***');
    const openaiAnswer = await chat(gateway);
    expect(openaiAnswer.status).toBe(200);
    expect(openaiAnswer.json).toMatchObject({ system_fingerprint: '***' });
    const anthropicAnswer = await messages(gateway);
    expect(anthropicAnswer.json).toMatchObject({ note: '***' });
    for (const answer of [streamed, openaiAnswer, anthropicAnswer]) expectNoKey(answer.text);
  });

  it('redacts an error message before cutting it, so a key straddling the cut shows nothing', async () => {
    const { testGateway: gateway } = await start((request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' });
      // The adapter keeps 500 characters: the key starts at 490.
      response.end(JSON.stringify({ error: { message: `${'x'.repeat(490)}${request.apiKey} trailing`, type: 'invalid_request_error' } }));
    });
    const answer = await chat(gateway);
    expect(answer.status).toBe(400);
    expectNoKey(answer.text);
    expect(answer.text).not.toContain('test-hos');
  });
});

describe('failover that one request cannot abuse', () => {
  it('does not resend or cool down after a first-byte timeout of a sent request; the next client is served', async () => {
    const { stub: upstream, testGateway: gateway } = await start(
      async (request, response) => {
        if (JSON.stringify(request.body).includes('slow please')) await delay(1_500);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(okChat('gpt-test')));
      },
      { extra: { upstream: { first_byte_timeout_ms: 400 } } },
    );
    const slow = await chat(gateway, { messages: [{ role: 'user', content: 'slow please' }] });
    expect(slow.status).toBe(504);
    expect(upstream.requests).toHaveLength(1); // sent once, never billed twice
    for (let index = 0; index < 2; index++) expect((await chat(gateway)).status).toBe(200);
    // Both keys still take traffic: neither sat out.
    expect(new Set(upstream.requests.slice(1).map((request) => request.apiKey)).size).toBe(2);
  });

  it('resends after a first-byte timeout only when upstream.failover_on_first_byte_timeout is on', async () => {
    const { stub: upstream, testGateway: gateway } = await start(
      async (request, response) => {
        if (request.apiKey === upstreamKeys[0]) await delay(1_500);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(okChat('gpt-test')));
      },
      { extra: { upstream: { first_byte_timeout_ms: 400, failover_on_first_byte_timeout: true } } },
    );
    const answers = [await chat(gateway), await chat(gateway)];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(upstream.requests.length).toBeGreaterThanOrEqual(3);
  });

  it('cools at most one key when every key answers 401 to one request; the next clients are served', async () => {
    const { stub: upstream, testGateway: gateway } = await start(
      (request, response) => {
        const refused = JSON.stringify(request.body).includes('refuse me');
        response.writeHead(refused ? 401 : 200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(refused ? { error: { message: 'Unauthorized for this request', type: 'invalid_request_error' } } : okChat('gpt-test')));
      },
      { keys: 3 },
    );
    const refused = await chat(gateway, { messages: [{ role: 'user', content: 'refuse me' }] });
    expect(refused.status).toBe(502);
    expect(refused.json).toMatchObject({ error: { code: 'GW_UPSTREAM_AUTH_FAILED' } });
    expect(upstream.requests).toHaveLength(2); // the second refusal stops failover
    for (let index = 0; index < 4; index++) expect((await chat(gateway)).status).toBe(200);
    expect(new Set(upstream.requests.slice(2).map((request) => request.apiKey)).size).toBe(2);
  });

  it('fails over on 5xx but cools only one key for one poisonous request; the next clients are served', async () => {
    const { stub: upstream, testGateway: gateway } = await start(
      (request, response) => {
        const poison = JSON.stringify(request.body).includes('poison');
        response.writeHead(poison ? 500 : 200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(poison ? { error: { message: 'internal error', type: 'server_error' } } : okChat('gpt-test')));
      },
      { keys: 3 },
    );
    const poisoned = await chat(gateway, { messages: [{ role: 'user', content: 'poison' }] });
    expect(poisoned.status).toBe(502);
    expect(upstream.requests).toHaveLength(3);
    for (let index = 0; index < 4; index++) expect((await chat(gateway)).status).toBe(200);
    expect(new Set(upstream.requests.slice(3).map((request) => request.apiKey)).size).toBe(2);
  });
});

describe('same-format answers that are not JSON', () => {
  const cases: [string, number, string, string][] = [
    ['a 302 with HTML', 302, 'text/html', '<html><body>Moved to <a href="https://login.example">login</a></body></html>'],
    ['a 200 with HTML', 200, 'text/html', '<!doctype html><html><body>Gateway maintenance</body></html>'],
    ['a 200 with garbage', 200, 'application/json', '{"choices": [ garbage'],
  ];
  it.each(cases)('%s becomes 502 GW_UPSTREAM_BAD_RESPONSE on both surfaces', async (_name, status, contentType, body) => {
    const { testGateway: gateway } = await start((_request, response) => {
      response.writeHead(status, { 'content-type': contentType, ...(status === 302 ? { location: 'https://login.example/' } : {}) });
      response.end(body);
    });
    const openaiAnswer = await chat(gateway);
    expect(openaiAnswer.status).toBe(502);
    expect(openaiAnswer.json).toMatchObject({ error: { code: 'GW_UPSTREAM_BAD_RESPONSE' } });
    const anthropicAnswer = await messages(gateway);
    expect(anthropicAnswer.status).toBe(502);
    expect(anthropicAnswer.json).toMatchObject({ type: 'error' });
    const counted = await messages(gateway, {}, '/v1/messages/count_tokens');
    expect(counted.status).toBe(502);
  });

  it('a streamed request answered with a 302 becomes 502 before any stream starts', async () => {
    const { testGateway: gateway } = await start((_request, response) => {
      response.writeHead(302, { 'content-type': 'text/html', location: 'https://login.example/' });
      response.end('<html>moved</html>');
    });
    const answer = await chat(gateway, { stream: true });
    expect(answer.status).toBe(502);
    expect(answer.json).toMatchObject({ error: { code: 'GW_UPSTREAM_BAD_RESPONSE' } });
  });
});
