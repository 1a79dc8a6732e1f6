import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, post, type JsonResponse } from '../helpers/http.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * Server-level behaviour seen over a real socket: health endpoints that need no key and reveal
 * nothing, `x-request-id` on every answer (a client-sent id only when it is a sane token), and
 * graceful shutdown (a running stream finishes, new connections are refused).
 */
const generatedIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;

let setup: StandardSetup;
beforeAll(async () => {
  setup = await startStandardSetup();
});
afterAll(() => setup.stop());

describe('health endpoints', () => {
  it.each(['/healthz', '/readyz'])('%s answers 200 without a key and reveals nothing', async (path) => {
    const response = await get(`${setup.testGateway.url}${path}`);
    expect(response.status).toBe(200);
    expect(Object.keys(response.json as object)).toEqual(['status']);
    const everything = `${response.text} ${JSON.stringify([...response.headers])}`;
    for (const secretish of ['0.1.0', 'gpt-test', 'claude-test', 'oai', 'ant"', String(setup.openaiStub.port), setup.testGateway.clientKeyId]) {
      expect(everything).not.toContain(secretish);
    }
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('server') ?? '').not.toMatch(/\d+\.\d+/);
  });
});

describe('management scope', () => {
  it.each(['/v0/management', '/v0/management/config', '/metrics'])('%s answers 401 to a valid client key, wherever it is sent, and to none', async (path) => {
    const { url, clientKey } = setup.testGateway;
    const attempts: [string, Promise<JsonResponse>][] = [
      ['no key', get(`${url}${path}`)],
      ['Bearer', get(`${url}${path}`, { authorization: `Bearer ${clientKey}` })],
      ['x-api-key', get(`${url}${path}`, { 'x-api-key': clientKey })],
      ['x-management-key', get(`${url}${path}`, { 'x-management-key': clientKey })],
      ['?key=', get(`${url}${path}?key=${clientKey}`)],
      ['POST with Bearer', post(`${url}${path}`, {}, { authorization: `Bearer ${clientKey}` })],
    ];
    for (const [label, attempt] of attempts) {
      const response = await attempt;
      expect(response.status, label).toBe(401);
      expect(response.json, label).toMatchObject({ error: { code: 'GW_UNAUTHORIZED' } });
    }
    // The same key opens the client API.
    expect((await get(`${url}/v1/models`, { authorization: `Bearer ${clientKey}` })).status).toBe(200);
  });
});

describe('x-request-id', () => {
  it('is on every response: success, stream, 400, 401, 404, 415, 502', async () => {
    const { url, clientKey } = setup.testGateway;
    const auth = { authorization: `Bearer ${clientKey}` };
    const chat = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
    setup.openaiStub.failNext({ status: 500 }, { times: 2 });
    const responses: [string, JsonResponse][] = [
      ['healthz', await get(`${url}/healthz`)],
      ['models', await get(`${url}/v1/models`, auth)],
      ['upstream 500', await post(`${url}/v1/chat/completions`, chat, auth)],
      ['stream', await post(`${url}/v1/messages`, { model: 'claude-test', max_tokens: 16, stream: true, messages: chat.messages }, { 'x-api-key': clientKey, 'anthropic-version': '2023-06-01' })],
      ['malformed', await post(`${url}/v1/chat/completions`, '{', auth)],
      ['no key', await post(`${url}/v1/chat/completions`, chat)],
      ['unknown route', await get(`${url}/v1/nothing-here`, auth)],
      ['unknown model', await post(`${url}/v1/chat/completions`, { ...chat, model: 'missing-model' }, auth)],
      ['content type', await post(`${url}/v1/chat/completions`, JSON.stringify(chat), { ...auth, 'content-type': 'text/plain' })],
    ];
    const ids = new Set<string>();
    for (const [label, response] of responses) {
      const id = response.headers.get('x-request-id');
      expect(id, label).toMatch(generatedIdPattern);
      ids.add(id ?? '');
    }
    expect(ids.size, 'ids are unique per request').toBe(responses.length);
    expect(responses.find(([label]) => label === 'upstream 500')?.[1].status).toBe(502);
  });

  it('echoes a sane client-sent id', async () => {
    const response = await get(`${setup.testGateway.url}/healthz`, { 'x-request-id': 'trace-abc.123' });
    expect(response.headers.get('x-request-id')).toBe('trace-abc.123');
  });

  it.each([
    ['markup', '<script>alert(1)</script>'],
    ['spaces', 'id with spaces'],
    ['too long', 'a'.repeat(500)],
    ['log forging', 'abc","level":60,"msg":"forged'],
  ])('replaces a client-sent id that is not a sane token (%s)', async (_label, sent) => {
    const response = await get(`${setup.testGateway.url}/healthz`, { 'x-request-id': sent });
    const id = response.headers.get('x-request-id');
    expect(id).not.toBe(sent);
    expect(id).toMatch(generatedIdPattern);
    expect(setup.testGateway.logs.some((line) => line.includes(sent))).toBe(false);
  });
});

function connectOutcome(port: number): Promise<'connected' | 'refused'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', () => resolve('refused'));
  });
}

/** Starts a slow stream (stub waits 150 ms between frames) and returns its reader after the first piece. */
async function startSlowStream(own: StandardSetup): Promise<{ reader: ReadableStreamDefaultReader<Uint8Array>; firstText: string }> {
  own.openaiStub.slowStreamNext(150);
  const response = await fetch(`${own.testGateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${own.testGateway.clientKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(response.status).toBe(200);
  const reader = response.body?.getReader();
  if (reader === undefined) throw new Error('no body');
  return { reader, firstText: new TextDecoder().decode((await reader.read()).value) };
}

async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const piece = await reader.read();
    if (piece.done) return text;
    text += decoder.decode(piece.value, { stream: true });
  }
}

describe('graceful shutdown', () => {
  it('lets a running stream finish and refuses new connections', async () => {
    const own = await startStandardSetup();
    try {
      const { reader, firstText } = await startSlowStream(own);
      const closing = own.testGateway.stop();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await connectOutcome(own.testGateway.port)).toBe('refused');
      const text = firstText + (await readRest(reader));
      expect(text).toContain('stub.');
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      await closing;
    } finally {
      await own.stop();
    }
  });

  it('finishes closing soon after the last stream ends (the idle keep-alive socket is not waited for)', async () => {
    const own = await startStandardSetup();
    try {
      const { reader } = await startSlowStream(own);
      const closing = own.testGateway.stop();
      await readRest(reader);
      const streamEnded = Date.now();
      await closing;
      expect(Date.now() - streamEnded).toBeLessThan(1_000);
    } finally {
      await own.stop();
    }
  });

  it('closes in reverse order of creation: the server first, what it uses after', () => {
    expect(setup.testGateway.gateway.shutdownOrder).toEqual(['http server', 'upstream client', 'credential watcher', 'management logins', 'ban mirror', 'usage store', 'OAuth refresh', 'state backend', 'audit log']);
  });

  it('tolerates close() being called twice (SIGTERM then SIGINT)', async () => {
    const own = await startStandardSetup();
    try {
      await own.testGateway.gateway.close();
      await expect(own.testGateway.gateway.close()).resolves.toBeUndefined();
    } finally {
      await own.stop().catch(() => undefined);
    }
  });
});

describe('reload', () => {
  it('serves a model added by reload and stops serving a removed one', async () => {
    const own = await startStandardSetup();
    try {
      const { url, clientKey } = own.testGateway;
      const providers = {
        oai: { type: 'openai' as const, base_url: own.openaiStub.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-new' }] },
      };
      own.testGateway.gateway.reload(own.testGateway.buildConfig({ providers }));
      const chat = (model: string): ReturnType<typeof post> =>
        post(`${url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${clientKey}` });
      expect((await chat('gpt-new')).status).toBe(200);
      expect((own.openaiStub.requests.at(-1)?.body as { model?: string }).model).toBe('gpt-new');
      expect((await chat('gpt-test')).status).toBe(404);
      expect((await chat('claude-test')).status).toBe(404);
    } finally {
      await own.stop();
    }
  });

  it('reports the restart-only settings a reload changed (by name, never by value), and applies the rest', async () => {
    const own = await startStandardSetup();
    try {
      const { testGateway } = own;
      const providers = {
        oai: { type: 'openai' as const, base_url: own.openaiStub.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] },
      };
      const restartWarnings = () => testGateway.logs.filter((line) => line.includes('change only on restart'));
      testGateway.gateway.reload(testGateway.buildConfig({ providers, extra: { upstream: { max_attempts: 2 } } }));
      expect(restartWarnings()).toEqual([]);

      const encryptionKeyFile = `${testGateway.baseDir}/elsewhere/encryption.key`;
      testGateway.gateway.reload(
        testGateway.buildConfig({
          providers,
          extra: { server: { port: 1, timeouts: { headers_ms: 7_000 } }, auth: { encryption: { key_file: encryptionKeyFile } }, logging: { level: 'debug' } },
        }),
      );
      const [warning] = restartWarnings();
      expect(JSON.parse(warning ?? '{}')).toMatchObject({
        settings: ['server.port', 'server.timeouts.*', 'auth.encryption.*', 'logging.*'],
        msg: 'Config reloaded, but these settings change only on restart: server.port, server.timeouts.*, auth.encryption.*, logging.*.',
      });
      expect(warning).not.toContain('elsewhere');
      // The rest of the reload applied: the provider list is the new one.
      const models = await post(`${testGateway.url}/v1/chat/completions`, { model: 'claude-test', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${testGateway.clientKey}` });
      expect(models.status).toBe(404);
    } finally {
      await own.stop();
    }
  });
});
