import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type Anthropic from '@anthropic-ai/sdk';
import OpenAIClient from 'openai';
import type OpenAI from 'openai';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { prepareCredentialStore } from '../../src/credentials/startup-checks.js';
import { startGateway, type RunningGateway } from '../../src/main.js';
import { oauthRecord } from '../../src/oauth/__fixtures__/refresh-support.js';
import { startCodexStub, type RecordedRequest, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { generateTestClientKey, sha256Hex, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { parseSseText, post } from '../helpers/http.js';
import { anthropicClientFor, openaiClientFor } from '../helpers/standard-setup.js';

/**
 * The `codex` provider type: a Responses upstream (stub), reached with an API key at `/v1/responses`
 * and with a ChatGPT login at `/backend-api/codex/responses`. Responses clients pass through (a
 * stream byte for byte); chat and Anthropic SDK clients are translated; streamed and not, with a
 * tool call. Each case checks what the upstream received.
 */
const upstreamKey = 'test-upstream-key-0301';
const weatherParameters = { type: 'object' as const, properties: { location: { type: 'string' }, unit: { type: 'string' } }, required: ['location'] };
const expectedArguments = { location: 'Paris, France', unit: 'celsius' };
const stubText = 'Hello from the Codex stub.';

/** A JWT-shaped, unsigned, obviously fake access token carrying the ChatGPT account claim. */
function testLoginToken(accountId: string): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none' })}.${part({ 'https://api.openai.com/auth': { chatgpt_account_id: accountId } })}.test-signature`;
}

let stub: StubUpstream;
let testGateway: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;
beforeAll(async () => {
  stub = await startCodexStub();
  testGateway = await startTestGateway({
    providers: { codex: { type: 'codex', base_url: stub.baseUrl, api_keys: [upstreamKey], models: [{ name: 'gpt-codex-test', alias: 'codex-alias' }] } },
  });
  openai = openaiClientFor(testGateway);
  anthropic = anthropicClientFor(testGateway);
});
afterAll(async () => {
  await testGateway.stop();
  await stub.close();
});

function lastRequest(): RecordedRequest {
  const request = stub.requests.at(-1);
  if (request === undefined) throw new Error('the stub got no request');
  expect(request.path).toBe('/v1/responses');
  expect(request.apiKey).toBe(upstreamKey);
  expect(JSON.stringify(request.headers)).not.toContain(testGateway.clientKey);
  return request;
}

describe('Responses client → codex upstream (pass-through)', () => {
  it('forwards a streamed request byte for byte and relays the stream untouched', async () => {
    const body = JSON.stringify({ model: 'gpt-codex-test', input: 'Hi', stream: true, store: false, include: ['reasoning.encrypted_content'] });
    const answer = await post(`${testGateway.url}/v1/responses`, body, { authorization: `Bearer ${testGateway.clientKey}` });
    expect(answer.status).toBe(200);
    expect(lastRequest().rawBody).toBe(body);
    const events = parseSseText(answer.text);
    expect(events[0]?.event).toBe('response.created');
    expect(events.at(-1)?.event).toBe('response.completed');
    // The reasoning item's encrypted content reaches the client: same provider, it can be replayed.
    expect(answer.text).toContain('gAAAAABfixture-sealed-reasoning');
  });

  it('SDK responses.create, streamed with a tool call', async () => {
    const stream = await openai.responses.create({ model: 'gpt-codex-test', input: 'Weather in Paris?', tools: [{ type: 'function', name: 'get_weather', parameters: weatherParameters, strict: false }], stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const done = events.find((event) => event.type === 'response.output_item.done' && event.item.type === 'function_call');
    expect(done?.type === 'response.output_item.done' && done.item.type === 'function_call' ? JSON.parse(done.item.arguments) : undefined).toEqual(expectedArguments);
    expect(events.at(-1)?.type).toBe('response.completed');
  });

  it('SDK responses.create, non-streamed: sent upstream as a stream, answered from response.completed', async () => {
    const response = await openai.responses.create({ model: 'codex-alias', input: 'Hi' });
    expect(response.output_text).toBe(stubText);
    expect(response.usage?.input_tokens_details.cached_tokens).toBe(1024);
    const sent = lastRequest().body as Record<string, unknown>;
    expect(sent['stream']).toBe(true);
    expect(sent['model']).toBe('gpt-codex-test');
  });
});

describe('chat client → codex upstream (translated)', () => {
  it('answers text non-streamed, with usage', async () => {
    const completion = await openai.chat.completions.create({ model: 'gpt-codex-test', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Hi' }], max_tokens: 50 });
    expect(completion.choices[0]?.message.content).toBe(stubText);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.prompt_tokens).toBe(1300);
    const sent = lastRequest().body as Record<string, unknown>;
    expect(sent).toMatchObject({ model: 'gpt-codex-test', instructions: 'You are terse.', max_output_tokens: 50, stream: true, store: false });
  });

  it('streams a tool call whose deltas reassemble, with a usage chunk', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-codex-test',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: weatherParameters } }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let args = '';
    let name = '';
    const finish: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        name += call.function?.name ?? '';
        args += call.function?.arguments ?? '';
      }
      if (chunk.choices[0]?.finish_reason) finish.push(chunk.choices[0].finish_reason);
      usage = chunk.usage ?? usage;
    }
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual(expectedArguments);
    expect(finish).toEqual(['tool_calls']);
    expect(usage?.completion_tokens).toBe(51);
  });
});

describe('Anthropic client → codex upstream (translated through chat)', () => {
  it('answers a tool_use block non-streamed', async () => {
    const message = await anthropic.messages.create({ model: 'gpt-codex-test', max_tokens: 100, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [{ name: 'get_weather', input_schema: weatherParameters }] });
    expect(message.stop_reason).toBe('tool_use');
    const toolUse = message.content.find((block) => block.type === 'tool_use');
    expect(toolUse?.type === 'tool_use' ? toolUse.input : undefined).toEqual(expectedArguments);
    expect((lastRequest().body as Record<string, unknown>)['tools']).toMatchObject([{ type: 'function', name: 'get_weather' }]);
  });

  it('streams text with the events in order', async () => {
    const stream = await anthropic.messages.create({ model: 'gpt-codex-test', max_tokens: 100, system: 'You are terse.', messages: [{ role: 'user', content: 'Hi' }], stream: true });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    expect(text).toBe(stubText);
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
  });
});

describe('Gemini client → codex upstream (translated through chat)', () => {
  const geminiHeaders = (): Record<string, string> => ({ 'x-goog-api-key': testGateway.clientKey });
  const tools = [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { location: { type: 'STRING' } } } }] }];

  it('answers a functionCall, non-streamed', async () => {
    const answer = await post(`${testGateway.url}/v1beta/models/gpt-codex-test:generateContent`, { contents: [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }], tools }, geminiHeaders());
    expect(answer.status, answer.text).toBe(200);
    const parts = (answer.json as { candidates: { content: { parts: { functionCall?: { name: string; args: unknown } }[] } }[] }).candidates[0]?.content.parts ?? [];
    expect(parts.find((part) => part.functionCall !== undefined)?.functionCall).toMatchObject({ name: 'get_weather', args: expectedArguments });
    expect((lastRequest().body as Record<string, unknown>)['tools']).toMatchObject([{ type: 'function', name: 'get_weather' }]);
  });

  it('streams text as alt=sse chunks', async () => {
    const answer = await post(`${testGateway.url}/v1beta/models/gpt-codex-test:streamGenerateContent?alt=sse`, { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }, geminiHeaders());
    expect(answer.status).toBe(200);
    const chunks = parseSseText(answer.text).map((event) => JSON.parse(event.data) as { candidates: { content: { parts: { text?: string }[] }; finishReason?: string }[] });
    expect(chunks.map((chunk) => chunk.candidates[0]?.content.parts.map((part) => part.text ?? '').join('')).join('')).toBe(stubText);
    expect(chunks.at(-1)?.candidates[0]?.finishReason).toBe('STOP');
  });
});

describe('a codex upstream failing part-way, echoing its key', () => {
  it('pass-through: the upstream response.failed reaches the client with the key masked', async () => {
    stub.errorEventMidStreamNext({ afterFrames: 4 });
    const answer = await post(`${testGateway.url}/v1/responses`, { model: 'gpt-codex-test', input: 'Hi', stream: true }, { authorization: `Bearer ${testGateway.clientKey}` });
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain(upstreamKey);
    const events = parseSseText(answer.text);
    expect(events.at(-1)?.event).toBe('response.failed');
    expect(events.at(-1)?.data).toContain('The server had an error while processing your request with key ');
  });

  it('chat client: the text before the failure, then one error event in the chat shape, key masked', async () => {
    stub.errorEventMidStreamNext({ afterFrames: 8 }); // past the first two text deltas
    const answer = await post(`${testGateway.url}/v1/chat/completions`, { model: 'gpt-codex-test', messages: [{ role: 'user', content: 'Hi' }], stream: true }, { authorization: `Bearer ${testGateway.clientKey}` });
    expect(answer.text).not.toContain(upstreamKey);
    const events = parseSseText(answer.text);
    expect(events.some((event) => event.data.includes('"content":"Hello"'))).toBe(true);
    const last = JSON.parse(events.at(-1)?.data ?? '{}') as { error?: { code: string; message: string } };
    expect(last.error?.code).toBe('GW_UPSTREAM_STREAM_FAILED');
    expect(answer.text).not.toContain('[DONE]');
  });

  it('Anthropic client (through chat): event: error last, key masked', async () => {
    stub.errorEventMidStreamNext({ afterFrames: 6 });
    const answer = await post(`${testGateway.url}/v1/messages`, { model: 'gpt-codex-test', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }], stream: true }, { 'x-api-key': testGateway.clientKey, 'anthropic-version': '2023-06-01' });
    expect(answer.text).not.toContain(upstreamKey);
    const events = parseSseText(answer.text);
    expect(events[0]?.event).toBe('message_start');
    expect(events.at(-1)?.event).toBe('error');
  });

  it('non-streamed: a response.failed answer is a 502 in the client shape, key masked', async () => {
    stub.errorEventMidStreamNext({ afterFrames: 2 });
    const answer = await post(`${testGateway.url}/v1/chat/completions`, { model: 'gpt-codex-test', messages: [{ role: 'user', content: 'Hi' }] }, { authorization: `Bearer ${testGateway.clientKey}` });
    expect(answer.status).toBe(502);
    expect(answer.text).not.toContain(upstreamKey);
    expect((answer.json as { error: { code: string } }).error.code).toBe('GW_UPSTREAM_ERROR');
  });
});

describe('a ChatGPT login (openai-codex OAuth) against the Codex backend path', () => {
  it('sends the account id from the token, OpenAI-Beta and originator the backend requires; stream and store as it demands', async () => {
    const loginStub = await startCodexStub();
    const baseDir = await mkdtemp(join(tmpdir(), 'cliproxy-codex-login-'));
    const clientKey = generateTestClientKey();
    const configText = stringify({
      server: { host: '127.0.0.1', port: 0 },
      auth: { api_keys: [{ id: 'test-client', key_sha256: sha256Hex(clientKey) }] },
      providers: { chatgpt: { type: 'codex', base_url: `${new URL(loginStub.baseUrl).origin}/backend-api/codex`, api_keys: [], models: [{ name: 'gpt-codex-test' }], allow_private_network: true } },
    });
    const loaded = parseConfigText(configText, { sourceName: 'codex-login.yaml', baseDir, env: {} });
    const prepared = await prepareCredentialStore(loaded, { env: {} });
    const token = testLoginToken('0c8d7a2e-1111-4222-8333-944455556666');
    await prepared.store.write(oauthRecord({ id: 'chatgpt-login', provider: 'chatgpt', access_token: token, refresh_token: 'test-refresh-token-codex', expires_at: Date.now() + 24 * 3_600_000 }));
    const gateway: RunningGateway = await startGateway({ loaded, logStream: new Writable({ write: (_chunk, _encoding, callback) => callback() }) });
    try {
      const client = new OpenAIClient({ baseURL: `${gateway.url}/v1`, apiKey: clientKey, maxRetries: 0, timeout: 10_000 });
      const completion = await client.chat.completions.create({ model: 'gpt-codex-test', messages: [{ role: 'user', content: 'Hi' }] });
      expect(completion.choices[0]?.message.content).toBe(stubText);
      const response = await client.responses.create({ model: 'gpt-codex-test', input: 'Hi', store: false });
      expect(response.output_text).toBe(stubText);
      for (const request of loginStub.requests) {
        expect(request.path).toBe('/backend-api/codex/responses');
        expect(request.headers['chatgpt-account-id']).toBe('0c8d7a2e-1111-4222-8333-944455556666');
        expect(request.headers['openai-beta']).toBe('responses=experimental');
        expect(request.headers['originator']).toBe('codex_cli_rs');
        expect(request.headers.authorization).toBe(`Bearer ${token}`);
      }
      expect(loginStub.requests).toHaveLength(2);
    } finally {
      await gateway.close();
      await loginStub.close();
      await rm(baseDir, { recursive: true, force: true });
    }
  });
});
