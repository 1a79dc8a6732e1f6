import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../fixtures/stub-upstreams/index.js';
import { get, post } from '../helpers/http.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * No log line carries a secret. Upstream keys are random canaries made for this run; the stubs
 * answer 401 with bodies that echo the key they received (as real upstreams do, masked or not),
 * clients send wrong keys, and a key travels in `?key=`. Logging runs at `trace` so every line the
 * gateway can write is searched, then each canary must be absent from every captured line.
 */
const canary = (label: string): string => `test-upstream-key-${label}-${randomBytes(12).toString('hex')}`;
const openaiKeys = [canary('oai-a'), canary('oai-b')];
const anthropicKeys = [canary('ant-a'), canary('ant-b')];
const wrongClientKey = `test-client-wrong-${randomBytes(16).toString('hex')}`;

const echoOpenAIKey = (request: RecordedRequest): unknown => ({
  error: { message: `Incorrect API key provided: ${request.apiKey ?? ''}.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
});
const echoAnthropicKey = (request: RecordedRequest): unknown => ({
  type: 'error',
  error: { type: 'authentication_error', message: `invalid x-api-key ${request.apiKey ?? ''}` },
});

let setup: StandardSetup;
const clientBodies: string[] = [];

beforeAll(async () => {
  setup = await startStandardSetup({
    openaiKeys: openaiKeys.map((key, index) => ({ key, priority: index })),
    anthropicKeys: anthropicKeys.map((key, index) => ({ key, priority: index })),
    extra: { logging: { level: 'trace', access_log: true } },
  });
  const { url, clientKey } = setup.testGateway;
  const openaiHeaders = { authorization: `Bearer ${clientKey}` };
  const anthropicHeaders = { 'x-api-key': clientKey, 'anthropic-version': '2023-06-01' };
  const chat = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
  const messages = { model: 'claude-test', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };
  const record = (response: { text: string }): void => {
    clientBodies.push(response.text);
  };

  // Successes, both surfaces, both upstreams, streamed and not.
  for (const stream of [false, true]) {
    record(await post(`${url}/v1/chat/completions`, { ...chat, stream }, openaiHeaders));
    record(await post(`${url}/v1/chat/completions`, { ...chat, model: 'claude-test', stream }, openaiHeaders));
    record(await post(`${url}/v1/messages`, { ...messages, stream }, anthropicHeaders));
    record(await post(`${url}/v1/messages`, { ...messages, model: 'gpt-test', stream }, anthropicHeaders));
  }
  // Upstream 401s whose bodies echo the upstream key: the first key fails, the second answers.
  setup.openaiStub.failNext({ status: 401, body: echoOpenAIKey }, { whenKey: openaiKeys[0] });
  record(await post(`${url}/v1/chat/completions`, chat, openaiHeaders));
  setup.anthropicStub.failNext({ status: 401, body: echoAnthropicKey }, { whenKey: anthropicKeys[0] });
  record(await post(`${url}/v1/messages`, messages, anthropicHeaders));
  // Every remaining key rejected too, so the error reaches the client.
  setup.openaiStub.failNext({ status: 401, body: echoOpenAIKey }, { times: 5 });
  record(await post(`${url}/v1/chat/completions`, chat, openaiHeaders));
  // Other upstream failures: 429 and 500 with the key in the body.
  setup.anthropicStub.failNext({ status: 429, headers: { 'retry-after': '1' }, body: echoAnthropicKey }, { times: 5 });
  record(await post(`${url}/v1/messages`, messages, anthropicHeaders));
  // Client-side failures: wrong keys on every carrier, a key in the query string, bad input.
  record(await post(`${url}/v1/chat/completions`, chat, { authorization: `Bearer ${wrongClientKey}` }));
  record(await post(`${url}/v1/messages`, messages, { 'x-api-key': wrongClientKey, 'anthropic-version': '2023-06-01' }));
  record(await get(`${url}/v1/models`, { 'x-goog-api-key': wrongClientKey }));
  record(await get(`${url}/v1/models?key=${clientKey}`));
  record(await get(`${url}/v1/models?key=${wrongClientKey}`));
  record(await post(`${url}/v1/chat/completions?key=${clientKey}`, '{"model":', {}));
  record(await post(`${url}/v1/chat/completions`, { ...chat, model: 'no-such-model' }, openaiHeaders));
});
afterAll(() => setup.stop());

describe('log redaction', () => {
  it('captured log lines at all', () => {
    expect(setup.testGateway.logs.length).toBeGreaterThan(10);
    for (const line of setup.testGateway.logs) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('no log line contains the client key, a wrong client key, or an upstream key', () => {
    const secrets = [setup.testGateway.clientKey, wrongClientKey, ...openaiKeys, ...anthropicKeys];
    const leaks = setup.testGateway.logs.filter((line) => secrets.some((secret) => line.includes(secret)));
    expect(leaks).toEqual([]);
  });

  it('no log line contains a long piece of a key either (partial masking that shows too much)', () => {
    const pieces = [setup.testGateway.clientKey, ...openaiKeys, ...anthropicKeys].map((secret) => secret.slice(-20));
    const leaks = setup.testGateway.logs.filter((line) => pieces.some((piece) => line.includes(piece)));
    expect(leaks).toEqual([]);
  });

  it('logs the request with ?key= redacted', () => {
    const modelsLines = setup.testGateway.logs.filter((line) => line.includes('/v1/models'));
    expect(modelsLines.length).toBeGreaterThan(0);
    const withKeyParameter = modelsLines.filter((line) => line.includes('key='));
    expect(withKeyParameter.length).toBeGreaterThan(0);
    for (const line of withKeyParameter) expect(line).not.toMatch(/key=test-client/);
  });

  it('no error body sent to a client contains an upstream key', () => {
    const leaks = clientBodies.filter((body) => [...openaiKeys, ...anthropicKeys].some((secret) => body.includes(secret)));
    expect(leaks).toEqual([]);
  });

  it('the upstream 401s were really sent with the keys the test watches', () => {
    expect(setup.openaiStub.requests.some((request) => request.apiKey === openaiKeys[0])).toBe(true);
    expect(setup.anthropicStub.requests.some((request) => request.apiKey === anthropicKeys[0])).toBe(true);
  });
});

describe('audit record redaction', () => {
  it('no audit record contains the client key, a wrong client key, an upstream key or a long piece of one', async () => {
    const audit = setup.testGateway.gateway.audit;
    await audit.flush();
    const text = readFileSync(audit.file ?? '', 'utf8');
    const records = text.split('\n').filter((line) => line !== '');
    // Every request above that passed the key has its record, every wrong key its auth-failure.
    expect(records.filter((line) => line.includes('"provider-request"')).length).toBeGreaterThanOrEqual(12);
    expect(records.filter((line) => line.includes('"auth-failure"')).length).toBeGreaterThanOrEqual(4);
    const secrets = [setup.testGateway.clientKey, wrongClientKey, ...openaiKeys, ...anthropicKeys];
    const pieces = [setup.testGateway.clientKey, ...openaiKeys, ...anthropicKeys].map((secret) => secret.slice(-20));
    expect(records.filter((line) => [...secrets, ...pieces].some((secret) => line.includes(secret)))).toEqual([]);
  });
});
