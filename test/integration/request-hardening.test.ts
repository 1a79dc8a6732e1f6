import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post } from '../helpers/http.js';
import { startStandardSetup, type StandardSetup, type StandardSetupOptions } from '../helpers/standard-setup.js';

/**
 * Request hardening (issue 11), over real HTTP, each rule shown refusing its attack and nothing
 * reaching an upstream: the per-model token cap on every field a route names, `strict` unknown-field
 * refusal, the nesting bound inside unknown fields, the message count bound, and the bounds on
 * client strings a translation copies upstream under another name.
 */
const cappedModels: StandardSetupOptions = {
  extraProviders: ({ openaiStub, anthropicStub }) => ({
    'oai-capped': { type: 'openai' as const, base_url: openaiStub.baseUrl, api_keys: ['test-upstream-key-0201'], models: [{ name: 'gpt-capped', max_tokens: 100 }] },
    'ant-capped': { type: 'anthropic' as const, base_url: anthropicStub.baseUrl, api_keys: ['test-upstream-key-0301'], models: [{ name: 'claude-capped', max_tokens: 100 }] },
  }),
};

let open: StandardSetup;
let strict: StandardSetup;
beforeAll(async () => {
  [open, strict] = await Promise.all([
    startStandardSetup(cappedModels),
    startStandardSetup({ ...cappedModels, extra: { server: { validation: { strict: true, max_messages: 50, max_json_depth: 32 } } } }),
  ]);
});
afterAll(async () => {
  await Promise.all([open?.stop(), strict?.stop()]);
});

const anthropicHeaders = (setup: StandardSetup): Record<string, string> => ({ 'x-api-key': setup.testGateway.clientKey, 'anthropic-version': '2023-06-01' });
const openaiHeaders = (setup: StandardSetup): Record<string, string> => ({ authorization: `Bearer ${setup.testGateway.clientKey}` });
const upstreamRequests = (setup: StandardSetup): number => setup.openaiStub.requests.length + setup.anthropicStub.requests.length;

/** POSTs to a client route and checks that nothing went upstream; returns the answer. */
async function refusedLocally(setup: StandardSetup, path: '/v1/chat/completions' | '/v1/messages', body: unknown) {
  const before = upstreamRequests(setup);
  const response = await post(`${setup.testGateway.url}${path}`, body, path === '/v1/messages' ? anthropicHeaders(setup) : openaiHeaders(setup));
  expect(upstreamRequests(setup), 'nothing reached an upstream').toBe(before);
  return response;
}
const openaiMessage = (response: { json: unknown }): string => (response.json as { error: { message: string } }).error.message;
const anthropicMessage = (response: { json: unknown }): string => (response.json as { error: { message: string } }).error.message;

describe('the per-model cap applies to every token field a route names', () => {
  it.each(['max_tokens', 'max_completion_tokens'])('OpenAI %s over the model cap gets 400 naming the field and the model', async (field) => {
    const response = await refusedLocally(open, '/v1/chat/completions', { model: 'gpt-capped', [field]: 101, messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status, response.text).toBe(400);
    expect(response.json).toMatchObject({ error: { code: 'GW_MAX_TOKENS_EXCEEDED' } });
    expect(openaiMessage(response)).toContain(`${field} 101`);
    expect(openaiMessage(response)).toContain("'gpt-capped' of 100");
  });

  it('Anthropic max_tokens over the model cap gets 400 in the Anthropic shape', async () => {
    const response = await refusedLocally(open, '/v1/messages', { model: 'claude-capped', max_tokens: 101, messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status, response.text).toBe(400);
    expect(response.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(anthropicMessage(response)).toContain("max_tokens 101 is above the limit for model 'claude-capped' of 100");
  });

  it('a cross-format request is held to the target model cap too, and the cap itself passes', async () => {
    const over = await refusedLocally(open, '/v1/chat/completions', { model: 'claude-capped', max_completion_tokens: 101, messages: [{ role: 'user', content: 'hi' }] });
    expect(over.status, over.text).toBe(400);
    const atCap = await post(`${open.testGateway.url}/v1/chat/completions`, { model: 'claude-capped', max_completion_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }, openaiHeaders(open));
    expect(atCap.status, atCap.text).toBe(200);
  });
});

describe('server.validation.strict', () => {
  it('off (the default): an unknown top-level field is forwarded', async () => {
    const response = await post(`${open.testGateway.url}/v1/chat/completions`, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], new_sdk_field: true }, openaiHeaders(open));
    expect(response.status, response.text).toBe(200);
  });

  it('on: an unknown top-level field gets 400 naming it (OpenAI shape)', async () => {
    const response = await refusedLocally(strict, '/v1/chat/completions', { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], smuggled: { any: 'thing' } });
    expect(response.status, response.text).toBe(400);
    expect(response.json).toMatchObject({ error: { code: 'GW_INVALID_REQUEST', type: 'invalid_request_error' } });
    expect(openaiMessage(response)).toContain("unknown field 'smuggled'");
  });

  it('on: an unknown top-level field gets 400 naming it (Anthropic shape)', async () => {
    const response = await refusedLocally(strict, '/v1/messages', { model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], context_smuggle: 1 });
    expect(response.status, response.text).toBe(400);
    expect(response.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(anthropicMessage(response)).toContain("unknown field 'context_smuggle'");
  });

  it('on: a body of known fields only still passes', async () => {
    const response = await post(`${strict.testGateway.url}/v1/messages`, { model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], metadata: { user_id: 'u-1' } }, anthropicHeaders(strict));
    expect(response.status, response.text).toBe(200);
  });
});

describe('prototype poisoning over HTTP', () => {
  it.each([
    ['/v1/chat/completions', '{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"__proto__":{"isAdmin":true}}'],
    ['/v1/messages', '{"model":"claude-test","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"metadata":{"constructor":{"prototype":{"polluted":1}}}}'],
  ] as const)('%s: 400 GW_INVALID_JSON, nothing forwarded', async (path, body) => {
    const response = await refusedLocally(open, path, body);
    expect(response.status, response.text).toBe(400);
    expect(response.text).toMatch(/GW_INVALID_JSON|not valid JSON/);
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
  });
});

describe('the nesting bound holds inside unknown fields', () => {
  const deepUnknownField = (depth: number, model: string, extra = ''): string =>
    `{"model":"${model}",${extra}"messages":[{"role":"user","content":"hi"}],"unknown_field":${'['.repeat(depth)}${']'.repeat(depth)}}`;

  it.each([
    ['/v1/chat/completions', 'gpt-test', ''],
    ['/v1/messages', 'claude-test', '"max_tokens":10,'],
  ] as const)('a 100,000-deep array in an unknown field to %s gets 400 and is not forwarded', async (path, model, extra) => {
    const response = await refusedLocally(open, path, deepUnknownField(100_000, model, extra));
    expect(response.status, response.text).toBe(400);
    expect(response.text).toContain('nested deeper than 128 levels');
    expect(response.text).toContain('server.validation.max_json_depth');
  });

  it('the configured depth applies (32 here), and a body within it passes', async () => {
    const tooDeep = await refusedLocally(strict, '/v1/chat/completions', `{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"t","parameters":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}}]}`);
    expect(tooDeep.status, tooDeep.text).toBe(400);
    expect(tooDeep.text).toContain('nested deeper than 32 levels');
    const within = await post(`${strict.testGateway.url}/v1/chat/completions`, deepUnknownField(20, 'gpt-test').replace(',"unknown_field":' + '['.repeat(20) + ']'.repeat(20), ''), openaiHeaders(strict));
    expect(within.status, within.text).toBe(200);
  });
});

describe('the message count bound', () => {
  const messages = (count: number) => Array.from({ length: count }, (_, index) => ({ role: index % 2 === 0 ? 'user' : 'assistant', content: 'x' }));

  it('10,001 messages get 400 naming messages under the default of 10,000', async () => {
    const response = await refusedLocally(open, '/v1/messages', { model: 'claude-test', max_tokens: 10, messages: [...messages(10_000), { role: 'user', content: 'x' }] });
    expect(response.status, response.text).toBe(400);
    expect(anthropicMessage(response)).toContain('messages: 10001 entries is more than');
    expect(anthropicMessage(response)).toContain('server.validation.max_messages');
  });

  it('the configured bound applies (50 here) on the OpenAI surface; 49 pass', async () => {
    const over = await refusedLocally(strict, '/v1/chat/completions', { model: 'gpt-test', messages: messages(51) });
    expect(over.status, over.text).toBe(400);
    expect(openaiMessage(over)).toContain('messages: 51 entries');
    const within = await post(`${strict.testGateway.url}/v1/chat/completions`, { model: 'gpt-test', messages: messages(49) }, openaiHeaders(strict));
    expect(within.status, within.text).toBe(200);
  });
});

describe('client strings a translation copies upstream are bounded', () => {
  const long = 'u'.repeat(513);
  it.each([
    ['OpenAI user → Anthropic metadata.user_id, too long', { user: long }, "user: must be at most 512"],
    ['OpenAI user with a control character', { user: 'alice\r\nX-Injected: 1' }, 'user: must be at most 512 characters without control characters'],
    ['OpenAI stop → stop_sequences, too long', { stop: ['s'.repeat(1_001)] }, 'stop[0]: must be at most 1000'],
    ['tool_choice name with a control character', { tools: [{ type: 'function', function: { name: 'ok' } }], tool_choice: { type: 'function', function: { name: 'ok\u0000' } } }, 'tool_choice.function.name'],
    [
      'history tool call id too long',
      { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c'.repeat(257), type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c', content: 'r' }] },
      'messages[1].tool_calls[0].id',
    ],
  ])('%s: 400 naming the field, nothing sent', async (_case, fields, named) => {
    const response = await refusedLocally(open, '/v1/chat/completions', { model: 'claude-test', messages: [{ role: 'user', content: 'hi' }], ...fields });
    expect(response.status, response.text).toBe(400);
    expect(response.json).toMatchObject({ error: { code: 'GW_INVALID_REQUEST' } });
    expect(openaiMessage(response)).toContain(named);
  });

  it.each([
    ['metadata.user_id too long', { metadata: { user_id: long } }, 'metadata.user_id'],
    ['17 stop_sequences', { stop_sequences: Array.from({ length: 17 }, (_, index) => `s${index}`) }, 'stop_sequences: at most 16'],
    [
      'history tool_use name with a control character',
      { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f\u001b[2J', input: {} }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'r' }] }] },
      'messages[1].content[0].name',
    ],
  ])('Anthropic → OpenAI, %s: 400 naming the field, nothing sent', async (_case, fields, named) => {
    const response = await refusedLocally(open, '/v1/messages', { model: 'gpt-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...fields });
    expect(response.status, response.text).toBe(400);
    expect(anthropicMessage(response)).toContain(named);
  });

  it('values at their bounds pass, and a newline stop sequence is not a control-character refusal', async () => {
    const response = await post(
      `${open.testGateway.url}/v1/chat/completions`,
      { model: 'claude-test', messages: [{ role: 'user', content: 'hi' }], user: 'u'.repeat(512), stop: ['\n\nHuman:', 's'.repeat(1_000)] },
      openaiHeaders(open),
    );
    expect(response.status, response.text).toBe(200);
    const sent = open.anthropicStub.requests.at(-1)!.body as { metadata: { user_id: string }; stop_sequences: string[] };
    expect(sent.metadata.user_id).toHaveLength(512);
    expect(sent.stop_sequences[0]).toBe('\n\nHuman:');
  });
});
