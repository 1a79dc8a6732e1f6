import Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest, StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { anthropicEventOrderProblems, assembleToolCalls, type AnthropicEventView } from '../helpers/stream-checks.js';
import { anthropicUpstreamKeys, openaiUpstreamKeys, startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * The real `openai` and `@anthropic-ai/sdk` clients through the gateway, in all four
 * client × upstream combinations, streamed and not, with plain text and with a tool call. Each
 * case also checks what the upstream received: its own wire format, and an upstream key, never
 * the client key.
 */
type Side = 'openai' | 'anthropic';

const weatherParameters = {
  type: 'object' as const,
  properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['location'],
};
const openaiTools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Current weather for a place', parameters: weatherParameters } },
];
const anthropicTools: Anthropic.Tool[] = [{ name: 'get_weather', description: 'Current weather for a place', input_schema: weatherParameters }];
const expectedArguments = { location: 'Paris, France', unit: 'celsius' };

const modelFor: Record<Side, string> = { openai: 'gpt-test', anthropic: 'claude-test' };
const upstreamText: Record<Side, string> = { openai: 'Hello from the OpenAI stub.', anthropic: 'Hello from the Anthropic stub.' };

let setup: StandardSetup;
beforeAll(async () => {
  setup = await startStandardSetup();
});
afterAll(() => setup.stop());

function stubFor(side: Side): StubUpstream {
  return side === 'openai' ? setup.openaiStub : setup.anthropicStub;
}

/** Checks the upstream got its own format, the configured model, and an upstream key only. */
function checkUpstreamRequest(side: Side, request: RecordedRequest | undefined, options: { stream: boolean; tools: boolean }): void {
  expect(request).toBeDefined();
  if (request === undefined) return;
  const body = request.body as Record<string, unknown>;
  const headerText = JSON.stringify(request.headers);
  expect(headerText).not.toContain(setup.testGateway.clientKey);
  expect(request.rawBody).not.toContain(setup.testGateway.clientKey);
  expect(body.model).toBe(modelFor[side]);
  expect(Array.isArray(body.messages)).toBe(true);
  expect(Boolean(body.stream)).toBe(options.stream);
  const upstreamMessages = body.messages as { role: string }[];
  if (side === 'openai') {
    // The system prompt travels as the first message in OpenAI's format...
    expect(upstreamMessages[0]).toMatchObject({ role: 'system' });
    expect(JSON.stringify(upstreamMessages[0])).toContain('You are terse.');
    expect(request.path).toBe('/v1/chat/completions');
    expect(openaiUpstreamKeys).toContain(request.apiKey);
    expect(request.headers.authorization).toBe(`Bearer ${request.apiKey}`);
    if (options.tools) expect(body.tools).toMatchObject([{ type: 'function', function: { name: 'get_weather' } }]);
  } else {
    // ...and as the top-level `system` field in Anthropic's, never as a message role.
    expect(JSON.stringify(body.system)).toContain('You are terse.');
    expect(upstreamMessages.map((message) => message.role)).not.toContain('system');
    expect(request.path).toBe('/v1/messages');
    expect(anthropicUpstreamKeys).toContain(request.apiKey);
    expect(typeof request.headers['anthropic-version']).toBe('string');
    expect(typeof body.max_tokens).toBe('number');
    if (options.tools) expect(body.tools).toMatchObject([{ name: 'get_weather', input_schema: { type: 'object' } }]);
  }
}

const combinations: { client: Side; upstream: Side }[] = [
  { client: 'openai', upstream: 'openai' },
  { client: 'openai', upstream: 'anthropic' },
  { client: 'anthropic', upstream: 'anthropic' },
  { client: 'anthropic', upstream: 'openai' },
];

describe.each(combinations.filter((combination) => combination.client === 'openai'))('OpenAI client → $upstream upstream', ({ upstream }) => {
  const model = modelFor[upstream];
  const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'What is the weather in Paris?' },
  ];

  it('answers plain text, non-streamed, with usage', async () => {
    const completion = await setup.openaiClient.chat.completions.create({ model, messages, max_tokens: 100 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe(upstreamText[upstream]);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: false, tools: false });
  });

  it('answers a tool call, non-streamed', async () => {
    const completion = await setup.openaiClient.chat.completions.create({ model, messages, tools: openaiTools, max_tokens: 100 });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') return;
    expect(call.id).not.toBe('');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual(expectedArguments);
    checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: false, tools: true });
  });

  it('streams plain text and sends a usage chunk when include_usage is set', async () => {
    const stream = await setup.openaiClient.chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } });
    let text = '';
    const finishReasons: string[] = [];
    const usageChunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      const finish = chunk.choices[0]?.finish_reason;
      if (finish) finishReasons.push(finish);
      if (chunk.usage) usageChunks.push(chunk);
    }
    expect(text).toBe(upstreamText[upstream]);
    expect(finishReasons).toEqual(['stop']);
    expect(usageChunks).toHaveLength(1);
    expect(usageChunks[0]?.choices).toEqual([]);
    expect(usageChunks[0]?.usage?.completion_tokens).toBeGreaterThan(0);
    checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: true, tools: false });
  });

  it('streams without a usage chunk when include_usage is not set', async () => {
    const stream = await setup.openaiClient.chat.completions.create({ model, messages, stream: true });
    let sawUsage = false;
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) sawUsage = true;
    }
    expect(text).toBe(upstreamText[upstream]);
    expect(sawUsage).toBe(false);
  });

  it('streams a tool call whose deltas reassemble into the arguments', async () => {
    const stream = await setup.openaiClient.chat.completions.create({ model, messages, tools: openaiTools, stream: true });
    const deltas: OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    const finishReasons: string[] = [];
    for await (const chunk of stream) {
      deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      const finish = chunk.choices[0]?.finish_reason;
      if (finish) finishReasons.push(finish);
    }
    const calls = assembleToolCalls(deltas);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.name).toBe('get_weather');
    expect(calls[0]?.id).not.toBe('');
    expect(JSON.parse(calls[0]?.arguments ?? '')).toEqual(expectedArguments);
    expect(finishReasons).toEqual(['tool_calls']);
    checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: true, tools: true });
  });

  it('gives the same tool call through the SDK stream helper', async () => {
    const runner = setup.openaiClient.chat.completions.stream({ model, messages, tools: openaiTools });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' ? call.function.name : undefined).toBe('get_weather');
    expect(call?.type === 'function' ? JSON.parse(call.function.arguments) : undefined).toEqual(expectedArguments);
  });
});

describe.each(combinations.filter((combination) => combination.client === 'anthropic'))('Anthropic client → $upstream upstream', ({ upstream }) => {
  const model = modelFor[upstream];
  const base = { model, max_tokens: 256, system: 'You are terse.', messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }] };

  it('answers plain text, non-streamed, with usage', async () => {
    const message = await setup.anthropicClient.messages.create(base);
    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: upstreamText[upstream] })]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: false, tools: false });
  });

  it('answers a tool_use block, non-streamed', async () => {
    const message = await setup.anthropicClient.messages.create({ ...base, tools: anthropicTools });
    expect(message.stop_reason).toBe('tool_use');
    const toolUse = message.content.find((block) => block.type === 'tool_use');
    expect(toolUse?.type === 'tool_use' ? toolUse.name : undefined).toBe('get_weather');
    expect(toolUse?.type === 'tool_use' ? toolUse.input : undefined).toEqual(expectedArguments);
    expect(toolUse?.type === 'tool_use' ? toolUse.id : '').not.toBe('');
    checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: false, tools: true });
  });

  it('streams plain text with the events in order and usage', async () => {
    const stream = await setup.anthropicClient.messages.create({ ...base, stream: true });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(anthropicEventOrderProblems(events as AnthropicEventView[])).toEqual([]);
    const text = events.map((event) => (event.type === 'content_block_delta' && event.delta.type === 'text_delta' ? event.delta.text : '')).join('');
    expect(text).toBe(upstreamText[upstream]);
    const messageDelta = events.find((event) => event.type === 'message_delta');
    expect(messageDelta?.type === 'message_delta' ? messageDelta.delta.stop_reason : undefined).toBe('end_turn');
    expect(messageDelta?.type === 'message_delta' ? messageDelta.usage.output_tokens : 0).toBeGreaterThan(0);
    checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: true, tools: false });
  });

  it('streams a tool_use block whose input_json_delta pieces parse to the arguments', async () => {
    const stream = await setup.anthropicClient.messages.create({ ...base, tools: anthropicTools, stream: true });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(anthropicEventOrderProblems(events as AnthropicEventView[])).toEqual([]);
    const start = events.find((event) => event.type === 'content_block_start' && event.content_block.type === 'tool_use');
    expect(start?.type === 'content_block_start' && start.content_block.type === 'tool_use' ? start.content_block.name : undefined).toBe('get_weather');
    const toolIndex = start?.type === 'content_block_start' ? start.index : -1;
    const json = events
      .map((event) => (event.type === 'content_block_delta' && event.index === toolIndex && event.delta.type === 'input_json_delta' ? event.delta.partial_json : ''))
      .join('');
    expect(JSON.parse(json)).toEqual(expectedArguments);
    const messageDelta = events.find((event) => event.type === 'message_delta');
    expect(messageDelta?.type === 'message_delta' ? messageDelta.delta.stop_reason : undefined).toBe('tool_use');
    checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: true, tools: true });
  });

  it('gives the same tool_use through the SDK stream helper, with usage', async () => {
    const final = await setup.anthropicClient.messages.stream({ ...base, tools: anthropicTools }).finalMessage();
    const toolUse = final.content.find((block) => block.type === 'tool_use');
    expect(toolUse?.type === 'tool_use' ? toolUse.input : undefined).toEqual(expectedArguments);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    if (upstream === 'anthropic') expect(final.usage.input_tokens).toBeGreaterThan(0);
  });
});

describe('tool results travel back upstream in the upstream format', () => {
  it('OpenAI client → Anthropic upstream: a tool message becomes a tool_result block', async () => {
    await setup.openaiClient.chat.completions.create({
      model: 'claude-test',
      tools: openaiTools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_abc', content: '18 degrees' },
      ],
    });
    const sent = setup.anthropicStub.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    const blocks = sent.messages.flatMap((message) => (Array.isArray(message.content) ? (message.content as Record<string, unknown>[]) : []));
    expect(blocks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'tool_use', id: 'call_abc', name: 'get_weather', input: { location: 'Paris' } }),
        expect.objectContaining({ type: 'tool_result', tool_use_id: 'call_abc' }),
      ]),
    );
    expect(JSON.stringify(blocks)).toContain('18 degrees');
  });

  it('Anthropic client → OpenAI upstream: a tool_result block becomes a tool message', async () => {
    await setup.anthropicClient.messages.create({
      model: 'gpt-test',
      max_tokens: 64,
      tools: anthropicTools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_abc', name: 'get_weather', input: { location: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_abc', content: '18 degrees' }] },
      ],
    });
    const sent = setup.openaiStub.requests.at(-1)?.body as { messages: Record<string, unknown>[] };
    const assistant = sent.messages.find((message) => message.role === 'assistant') as { tool_calls?: { id: string; function: { name: string; arguments: string } }[] };
    expect(assistant.tool_calls?.[0]).toMatchObject({ id: 'toolu_abc', function: { name: 'get_weather' } });
    expect(JSON.parse(assistant.tool_calls?.[0]?.function.arguments ?? '')).toEqual({ location: 'Paris' });
    const toolMessage = sent.messages.find((message) => message.role === 'tool');
    expect(toolMessage).toMatchObject({ tool_call_id: 'toolu_abc' });
    expect(JSON.stringify(toolMessage)).toContain('18 degrees');
  });
});

describe('client key carriers and other routes', () => {
  it('accepts the Anthropic SDK key as apiKey, authToken, and an x-api-key header', async () => {
    const { url, clientKey } = setup.testGateway;
    const request = { model: 'sonnet-test', max_tokens: 32, messages: [{ role: 'user' as const, content: 'hi' }] };
    const viaApiKey = new Anthropic({ baseURL: url, apiKey: clientKey, maxRetries: 0 });
    const viaAuthToken = new Anthropic({ baseURL: url, apiKey: null, authToken: clientKey, maxRetries: 0 });
    const viaHeader = new Anthropic({ baseURL: url, apiKey: null, authToken: null, defaultHeaders: { 'x-api-key': clientKey }, maxRetries: 0 });
    for (const client of [viaApiKey, viaAuthToken, viaHeader]) {
      const message = await client.messages.create(request);
      expect(message.content[0]).toMatchObject({ type: 'text' });
      // The alias resolves to the provider's model name upstream.
      expect((setup.anthropicStub.requests.at(-1)?.body as { model?: string }).model).toBe('claude-test');
    }
    const wrong = new Anthropic({ baseURL: url, apiKey: `${clientKey}x`, maxRetries: 0 });
    await expect(wrong.messages.create(request)).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('lists the served models in OpenAI shape', async () => {
    const ids: string[] = [];
    for await (const model of setup.openaiClient.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-test', 'claude-test']));
  });

  it('counts tokens for an Anthropic model', async () => {
    const count = await setup.anthropicClient.messages.countTokens({ model: 'claude-test', messages: [{ role: 'user', content: 'hi' }] });
    expect(count.input_tokens).toBeGreaterThan(0);
    expect(setup.anthropicStub.requests.at(-1)?.path).toBe('/v1/messages/count_tokens');
  });
});
