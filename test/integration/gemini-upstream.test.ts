import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { prepareCredentialStore } from '../../src/credentials/startup-checks.js';
import { startGateway } from '../../src/main.js';
import { canary, oauthRecord } from '../../src/oauth/__fixtures__/refresh-support.js';
import { startGeminiStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { loadRecordedJson } from '../fixtures/stub-upstreams/recorded-fixtures.js';
import { generateTestClientKey, sha256Hex, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { post } from '../helpers/http.js';

/**
 * The `gemini` provider type beyond the SDK matrix: the pass-through's bytes, Gemini's JSON-array
 * stream for a client that does not ask for SSE, Code Assist with a stored Google login (the
 * envelope, the project, the bearer token), and hostile upstreams (a key echoed in a stream error,
 * answers that are not Gemini answers).
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function geminiGateway(stub: { baseUrl: string }, apiKeys: string[] = ['test-upstream-key-0201']): Promise<TestGateway> {
  const gateway = await startTestGateway({ providers: { gem: { type: 'gemini', base_url: stub.baseUrl, api_keys: apiKeys, models: [{ name: 'gemini-test', alias: 'gemini-alias' }] } } });
  cleanups.push(() => gateway.stop());
  return gateway;
}

async function stub(): Promise<StubUpstream> {
  const started = await startGeminiStub();
  cleanups.push(() => started.close());
  return started;
}

describe('Gemini client → Gemini upstream', () => {
  it('sends the body bytes as the client wrote them and relays the answer bytes as the upstream wrote them', async () => {
    const gemini = await stub();
    const gateway = await geminiGateway(gemini);
    const body = '{ "contents" : [ {"role":"user","parts":[{"text":"Hi","thoughtSignature":"c2lnLTE="}]} ],\n "futureField": {"kept": true} }';
    const answer = await post(`${gateway.url}/v1beta/models/gemini-alias:generateContent`, body, { 'x-goog-api-key': gateway.clientKey });
    expect(answer.status).toBe(200);
    expect(gemini.requests[0]?.rawBody).toBe(body);
    expect(gemini.requests[0]?.path).toBe('/v1beta/models/gemini-test:generateContent');
    // The stub's exact bytes (its recorded answer, serialised once by the stub).
    expect(answer.text).toBe(JSON.stringify({ ...loadRecordedJson('gemini', 'generate-text'), modelVersion: 'gemini-test' }));
  });

  it("answers a stream without ?alt=sse as Gemini's JSON array, read from the upstream's SSE", async () => {
    const gemini = await stub();
    const gateway = await geminiGateway(gemini);
    const answer = await post(`${gateway.url}/v1beta/models/gemini-test:streamGenerateContent`, { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }, { 'x-goog-api-key': gateway.clientKey });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('application/json');
    expect(gemini.requests[0]?.path).toBe('/v1beta/models/gemini-test:streamGenerateContent?alt=sse');
    const chunks = answer.json as { candidates: { content: { parts: { text: string }[] } }[] }[];
    expect(chunks.map((chunk) => chunk.candidates[0]?.content.parts[0]?.text).join('')).toBe('Hello from the Gemini stub.');
  });
});

describe('Code Assist (a stored Google login)', () => {
  it('wraps the request with the model and project, sends the bearer token, and unwraps answers and streams for every client', async () => {
    const gemini = await stub();
    const baseDir = await mkdtemp(join(tmpdir(), 'cliproxy-gca-'));
    cleanups.push(() => rm(baseDir, { recursive: true, force: true }));
    const clientKey = generateTestClientKey();
    const codeAssistUrl = gemini.baseUrl.replace(/\/v1beta$/, '/v1internal');
    const configText = stringify({
      server: { host: '127.0.0.1', port: 0 },
      auth: { api_keys: [{ id: 'test-client', key_sha256: sha256Hex(clientKey) }] },
      providers: { gca: { type: 'gemini', base_url: codeAssistUrl, project: 'fixture-project-01', api_keys: [], models: [{ name: 'gemini-test' }], allow_private_network: true } },
    });
    const loaded = parseConfigText(configText, { sourceName: 'code-assist.yaml', baseDir, env: {} });
    const accessToken = canary('google-access');
    const prepared = await prepareCredentialStore(loaded, { env: {} });
    await prepared.store.write(oauthRecord({ id: 'google-login', provider: 'gca', access_token: accessToken, refresh_token: canary('google-refresh'), expires_at: Date.now() + 3_600_000 }));
    const logs: string[] = [];
    const gateway = await startGateway({ loaded, logStream: new Writable({ write: (chunk: Buffer, _encoding, callback) => void (logs.push(chunk.toString()), callback()) }) });
    cleanups.push(() => gateway.close());

    const google = new GoogleGenAI({ apiKey: clientKey, httpOptions: { baseUrl: gateway.url } });
    expect((await google.models.generateContent({ model: 'gemini-test', contents: 'Hi' })).text).toBe('Hello from the Gemini stub.');
    let streamed = '';
    for await (const chunk of await google.models.generateContentStream({ model: 'gemini-test', contents: 'Hi' })) streamed += chunk.text ?? '';
    expect(streamed).toBe('Hello from the Gemini stub.');
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: clientKey, maxRetries: 0 });
    expect((await openai.chat.completions.create({ model: 'gemini-test', messages: [{ role: 'user', content: 'Hi' }] })).choices[0]?.message.content).toBe('Hello from the Gemini stub.');
    const stream = await openai.chat.completions.stream({ model: 'gemini-test', messages: [{ role: 'user', content: 'Hi' }], stream: true }).finalChatCompletion();
    expect(stream.choices[0]?.message.content).toBe('Hello from the Gemini stub.');

    expect(gemini.requests.map((request) => request.path)).toEqual(['/v1internal:generateContent', '/v1internal:streamGenerateContent?alt=sse', '/v1internal:generateContent', '/v1internal:streamGenerateContent?alt=sse']);
    for (const request of gemini.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${accessToken}`);
      expect(request.headers['x-goog-api-key']).toBeUndefined();
      expect(request.body).toMatchObject({ model: 'gemini-test', project: 'fixture-project-01', request: { contents: [{ role: 'user' }] } });
    }
    await gateway.close();
    for (const line of logs) for (const secret of [accessToken, clientKey]) expect(line).not.toContain(secret);
  });

  it.each([
    ['without a project', { project: undefined }, 'project: is required'],
    ['with API keys', { api_keys: ['test-upstream-key-0301'] }, 'takes the Google login'],
  ])('refuses a Code Assist provider %s at config load', (_name, change, message) => {
    const provider = { type: 'gemini', base_url: 'https://cloudcode-pa.googleapis.com/v1internal', project: 'fixture-project-01', api_keys: [], models: [], ...change };
    expect(() => parseConfigText(stringify({ providers: { gca: provider } }), { sourceName: 'x.yaml', baseDir: tmpdir(), env: {} })).toThrow(message);
  });
});

/** A Gemini-speaking upstream under the test's control, answering each request with `handler`. */
async function hostileGemini(handler: (apiKey: string, path: string, response: ServerResponse) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => handler(String(request.headers['x-goog-api-key'] ?? ''), request.url ?? '', response));
  });
  server.on('connection', (socket) => void (sockets.add(socket), socket.on('close', () => sockets.delete(socket))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => (sockets.forEach((socket) => socket.destroy()), server.close(() => resolve()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1beta`;
}

const hostileKey = 'test-hostile-gemini-key-0001-abcdefghij';
const okChunk = { candidates: [{ content: { role: 'model', parts: [{ text: 'Partial' }] } }] };

describe('a hostile Gemini upstream', () => {
  it.each([
    ['an OpenAI client', '/v1/chat/completions', (key: string) => ({ authorization: `Bearer ${key}` }), { model: 'gemini-test', stream: true, messages: [{ role: 'user', content: 'hi' }] }],
    ['an Anthropic client', '/v1/messages', (key: string) => ({ 'x-api-key': key }), { model: 'gemini-test', stream: true, max_tokens: 9, messages: [{ role: 'user', content: 'hi' }] }],
    ['a Gemini client (pass-through)', '/v1beta/models/gemini-test:streamGenerateContent?alt=sse', (key: string) => ({ 'x-goog-api-key': key }), { contents: [{ parts: [{ text: 'hi' }] }] }],
  ])('has its key masked when it echoes it in a stream error, for %s', async (_name, path, headers, body) => {
    const baseUrl = await hostileGemini((apiKey, _path, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: ${JSON.stringify(okChunk)}\r\n\r\n`);
      response.end(`data: ${JSON.stringify({ error: { code: 400, message: `API key not valid: ${apiKey}`, status: 'INVALID_ARGUMENT' } })}\r\n\r\n`);
    });
    const gateway = await geminiGateway({ baseUrl }, [hostileKey]);
    const answer = await post(`${gateway.url}${path}`, body, headers(gateway.clientKey));
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('Partial');
    expect(answer.text).not.toContain(hostileKey.slice(0, 16));
    expect(answer.text).toContain('***');
    for (const line of gateway.logs) expect(line).not.toContain(hostileKey.slice(0, 16));
  });

  it.each([
    ['JSON that is not an answer', 'application/json', '{"unexpected":true}'],
    ['an HTML page', 'text/html', '<html>502 Bad Gateway</html>'],
    ['an in-body error', 'application/json', '{"error":{"code":500,"message":"boom"}}'],
  ])('answering %s with a 200 is a 502 in each client’s own error shape', async (_name, contentType, text) => {
    const baseUrl = await hostileGemini((_key, _path, response) => {
      response.writeHead(200, { 'content-type': contentType });
      response.end(text);
    });
    const gateway = await geminiGateway({ baseUrl });
    const openai = await post(`${gateway.url}/v1/chat/completions`, { model: 'gemini-test', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${gateway.clientKey}` });
    expect(openai.status).toBe(502);
    expect(openai.json).toMatchObject({ error: { code: 'GW_UPSTREAM_BAD_RESPONSE' } });
    const anthropic = await post(`${gateway.url}/v1/messages`, { model: 'gemini-test', max_tokens: 9, messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': gateway.clientKey });
    expect(anthropic.status).toBe(502);
    expect(anthropic.json).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    if (contentType === 'text/html') {
      const gemini = await post(`${gateway.url}/v1beta/models/gemini-test:generateContent`, { contents: [{ parts: [{ text: 'hi' }] }] }, { 'x-goog-api-key': gateway.clientKey });
      expect(gemini.status).toBe(502);
      expect(gemini.json).toMatchObject({ error: { code: 502 } });
    }
  });

  it('a stream cut before its finishReason ends in the client’s error event', async () => {
    const baseUrl = await hostileGemini((_key, _path, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(`data: ${JSON.stringify(okChunk)}\r\n\r\n`);
    });
    const gateway = await geminiGateway({ baseUrl });
    const answer = await post(`${gateway.url}/v1/messages`, { model: 'gemini-test', stream: true, max_tokens: 9, messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': gateway.clientKey });
    expect(answer.text).toContain('event: error');
    expect(answer.text).toContain('Partial');
  });
});

describe('routing extras through the gateway', () => {
  it('serves a key-declared alias with that key only, skips a key excluding the model, hides excluded models from both model lists', async () => {
    const gemini = await stub();
    const keys = ['test-upstream-key-0401', 'test-upstream-key-0402', 'test-upstream-key-0403'];
    const gateway = await startTestGateway({
      providers: {
        gem: {
          type: 'gemini',
          base_url: gemini.baseUrl,
          api_keys: [keys[0] as string, { key: keys[1] as string, excluded_models: ['gemini-test*'] }, { key: keys[2] as string, models: [{ name: 'gemini-paid', alias: 'paid' }] }],
          models: [{ name: 'gemini-test' }, { name: 'gemini-test-preview' }],
          excluded_models: ['*-preview'],
        },
      },
    });
    cleanups.push(() => gateway.stop());
    const ask = (model: string) => post(`${gateway.url}/v1beta/models/${model}:generateContent`, { contents: [{ parts: [{ text: 'hi' }] }] }, { 'x-goog-api-key': gateway.clientKey });
    for (let turn = 0; turn < 4; turn++) expect((await ask('gemini-test')).status).toBe(200);
    // Key 2 excludes it; keys 1 and 3 serve the provider's own names.
    expect(new Set(gemini.requests.map((request) => request.apiKey))).toEqual(new Set([keys[0], keys[2]]));
    gemini.reset();
    expect((await ask('paid')).status).toBe(200);
    expect(gemini.requests.map((request) => [request.apiKey, request.path])).toEqual([[keys[2], '/v1beta/models/gemini-paid:generateContent']]);
    expect((await ask('gemini-test-preview')).status).toBe(404);
    const openaiList = (await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${gateway.clientKey}` } }).then((response) => response.json())) as { data: { id: string }[] };
    const geminiList = (await fetch(`${gateway.url}/v1beta/models`, { headers: { 'x-goog-api-key': gateway.clientKey } }).then((response) => response.json())) as { models: { name: string }[] };
    const ids = openaiList.data.map((model) => model.id).sort();
    expect(ids).toEqual(['gemini-paid', 'gemini-test', 'paid']);
    expect(geminiList.models.map((model) => model.name.replace(/^models\//, '')).sort()).toEqual(ids);
  });
});
