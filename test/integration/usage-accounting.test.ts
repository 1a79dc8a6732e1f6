import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicStub, startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { until } from '../helpers/binary-process.js';
import { generateTestClientKey, sha256Hex, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { callManagement, generateManagementKeys } from '../helpers/management.js';

/**
 * Issue 14, usage accounting: what each request's key is charged matches what the upstream
 * reported (the recorded fixtures: OpenAI 12 in / 7 out, Anthropic 14 in / 8 out), non-streamed and
 * streamed, passed through and translated in both directions; a pass-through OpenAI stream whose
 * client did not ask for usage is still counted (the gateway asks upstream) and the client sees no
 * usage chunk. Read back through GET /v0/management/usage, the same summary as `cliproxyapi usage`.
 */
const openaiUsage = { input_tokens: 12, output_tokens: 7 };
const anthropicUsage = { input_tokens: 14, output_tokens: 8 };
const cases = ['oai-json', 'oai-stream', 'oai-stream-usage', 'oai-to-ant-json', 'oai-to-ant-stream', 'ant-to-oai-json', 'ant-to-oai-stream', 'ant-json'] as const;
const keys = Object.fromEntries(cases.map((name) => [name, generateTestClientKey()])) as Record<(typeof cases)[number], string>;
const management = generateManagementKeys();
let openaiStub: StubUpstream;
let anthropicStub: StubUpstream;
let testGateway: TestGateway;

beforeAll(async () => {
  openaiStub = await startOpenAIStub();
  anthropicStub = await startAnthropicStub();
  testGateway = await startTestGateway({
    providers: {
      oai: { type: 'openai', base_url: openaiStub.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] },
      ant: { type: 'anthropic', base_url: anthropicStub.baseUrl, api_keys: ['test-upstream-key-0101'], models: [{ name: 'claude-test' }] },
    },
    extra: { auth: { api_keys: cases.map((name) => ({ id: name, key_sha256: sha256Hex(keys[name]) })) }, management: management.config(), usage: { flush_interval_ms: 50 } },
  });
});
afterAll(async () => {
  await testGateway.stop();
  await Promise.all([openaiStub.close(), anthropicStub.close()]);
});

const openaiFor = (name: (typeof cases)[number]) => new OpenAI({ baseURL: `${testGateway.url}/v1`, apiKey: keys[name], maxRetries: 0, timeout: 10_000 });
const anthropicFor = (name: (typeof cases)[number]) => new Anthropic({ baseURL: testGateway.url, apiKey: keys[name], maxRetries: 0, timeout: 10_000 });
const messages = [{ role: 'user' as const, content: 'hi' }];

interface Row {
  key: string;
  provider?: string;
  credential?: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
}

async function usageOf(name: string, by?: string): Promise<Row[]> {
  const answer = await callManagement(testGateway.url, 'GET', `/v0/management/usage?key=${name}&since=1h${by === undefined ? '' : `&by=${by}`}`, { key: management.keys.auditor });
  expect(answer.status).toBe(200);
  return answer.json['usage'] as Row[];
}

async function expectCharged(name: string, expected: { input_tokens: number; output_tokens: number }): Promise<void> {
  await until(async () => (await usageOf(name)).length === 1, 10_000, `usage of ${name}`);
  expect(await usageOf(name)).toEqual([expect.objectContaining({ key: name, requests: 1, errors: 0, ...expected })]);
}

describe('usage matches what the upstream reported', () => {
  it('OpenAI pass-through, non-streamed', async () => {
    const answer = await openaiFor('oai-json').chat.completions.create({ model: 'gpt-test', messages });
    expect(answer.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 7 });
    await expectCharged('oai-json', openaiUsage);
  });

  it('OpenAI pass-through stream without include_usage: counted (asked upstream), and the client sees no usage', async () => {
    const chunks = [];
    for await (const chunk of await openaiFor('oai-stream').chat.completions.create({ model: 'gpt-test', messages, stream: true })) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.filter((chunk) => chunk.usage !== undefined && chunk.usage !== null)).toEqual([]);
    expect(chunks.filter((chunk) => chunk.choices.length === 0)).toEqual([]);
    expect(openaiStub.requests.at(-1)?.body).toMatchObject({ stream_options: { include_usage: true } });
    await expectCharged('oai-stream', openaiUsage);
  });

  it('OpenAI pass-through stream with include_usage: the client gets its usage chunk, the same count is charged', async () => {
    const chunks = [];
    for await (const chunk of await openaiFor('oai-stream-usage').chat.completions.create({ model: 'gpt-test', messages, stream: true, stream_options: { include_usage: true } })) chunks.push(chunk);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 7 });
    await expectCharged('oai-stream-usage', openaiUsage);
  });

  it('OpenAI client → Anthropic upstream, non-streamed and streamed', async () => {
    const answer = await openaiFor('oai-to-ant-json').chat.completions.create({ model: 'claude-test', messages });
    expect(answer.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 8 });
    await expectCharged('oai-to-ant-json', anthropicUsage);
    const chunks = [];
    for await (const chunk of await openaiFor('oai-to-ant-stream').chat.completions.create({ model: 'claude-test', messages, stream: true })) chunks.push(chunk);
    expect(chunks.filter((chunk) => chunk.usage !== undefined && chunk.usage !== null)).toEqual([]);
    await expectCharged('oai-to-ant-stream', anthropicUsage);
  });

  it('Anthropic client → OpenAI upstream, non-streamed and streamed; Anthropic pass-through', async () => {
    const answer = await anthropicFor('ant-to-oai-json').messages.create({ model: 'gpt-test', max_tokens: 64, messages });
    expect(answer.usage).toMatchObject({ input_tokens: 12, output_tokens: 7 });
    await expectCharged('ant-to-oai-json', openaiUsage);
    const final = await anthropicFor('ant-to-oai-stream').messages.stream({ model: 'gpt-test', max_tokens: 64, messages }).finalMessage();
    expect(final.usage).toMatchObject({ output_tokens: 7 });
    await expectCharged('ant-to-oai-stream', openaiUsage);
    await anthropicFor('ant-json').messages.create({ model: 'claude-test', max_tokens: 64, messages });
    await expectCharged('ant-json', anthropicUsage);
  });

  it('splits by provider and by credential (which upstream account is drained)', async () => {
    expect(await usageOf('oai-to-ant-json', 'provider')).toEqual([expect.objectContaining({ provider: 'ant', requests: 1 })]);
    expect(await usageOf('ant-to-oai-json', 'credential')).toEqual([expect.objectContaining({ credential: expect.stringMatching(/^oai-key-[01]$/) as unknown, requests: 1 })]);
  });

  it('GET /v0/management/api-keys shows each key\'s recorded use of the day and month beside its budgets', async () => {
    const listed = await callManagement(testGateway.url, 'GET', '/v0/management/api-keys', { key: management.keys.auditor });
    const keysListed = listed.json['api_keys'] as { id: string; budget_use: { day: number; month: number } }[];
    expect(keysListed.find((key) => key.id === 'oai-json')?.budget_use).toEqual({ day: 19, month: 19 });
    expect(keysListed.find((key) => key.id === 'ant-json')?.budget_use).toEqual({ day: 22, month: 22 });
  });

  it('Prometheus counters carry the totals with key ids as labels, never keys', async () => {
    const scrape = await callManagement(testGateway.url, 'GET', '/metrics', { key: management.keys.auditor });
    expect(scrape.text).toMatch(/cliproxy_key_tokens_total\{key="oai-json",provider="oai",kind="input"\} 12/);
    expect(scrape.text).toMatch(/cliproxy_key_requests_total\{key="ant-json",provider="ant",result="success"\} 1/);
    for (const key of Object.values(keys)) expect(scrape.text).not.toContain(key);
  });
});
