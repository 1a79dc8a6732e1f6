import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest, StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { anthropicUpstreamKeys, openaiUpstreamKeys, startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * The real `openai` SDK's `responses.create` (and its `output_text`) through the gateway's
 * POST /v1/responses, against the OpenAI chat and the Anthropic stub upstreams: streamed and not,
 * plain text and a tool call, then the turn that sends the call's output back. Each case checks
 * what the upstream received (its own format, an upstream key, never the client key).
 */
type Upstream = 'openai' | 'anthropic';
const modelFor: Record<Upstream, string> = { openai: 'gpt-test', anthropic: 'claude-test' };
const upstreamText: Record<Upstream, string> = { openai: 'Hello from the OpenAI stub.', anthropic: 'Hello from the Anthropic stub.' };
const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a place',
  strict: false,
  parameters: { type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['location'] },
};
const expectedArguments = { location: 'Paris, France', unit: 'celsius' };

let setup: StandardSetup;
beforeAll(async () => {
  setup = await startStandardSetup();
});
afterAll(() => setup.stop());

function stubFor(upstream: Upstream): StubUpstream {
  return upstream === 'openai' ? setup.openaiStub : setup.anthropicStub;
}

function checkUpstreamRequest(upstream: Upstream, request: RecordedRequest | undefined, options: { stream: boolean; tools: boolean }): Record<string, unknown> {
  expect(request).toBeDefined();
  const body = (request?.body ?? {}) as Record<string, unknown>;
  expect(JSON.stringify(request?.headers)).not.toContain(setup.testGateway.clientKey);
  expect(body['model']).toBe(modelFor[upstream]);
  expect(Boolean(body['stream'])).toBe(options.stream);
  if (upstream === 'openai') {
    expect(request?.path).toBe('/v1/chat/completions');
    expect(openaiUpstreamKeys).toContain(request?.apiKey);
    expect((body['messages'] as unknown[])[0]).toEqual({ role: 'system', content: 'You are terse.' });
    if (options.stream) expect(body['stream_options']).toEqual({ include_usage: true });
    if (options.tools) expect(body['tools']).toMatchObject([{ type: 'function', function: { name: 'get_weather' } }]);
  } else {
    expect(request?.path).toBe('/v1/messages');
    expect(anthropicUpstreamKeys).toContain(request?.apiKey);
    expect(body['system']).toBe('You are terse.');
    expect(typeof body['max_tokens']).toBe('number');
    if (options.tools) expect(body['tools']).toMatchObject([{ name: 'get_weather', input_schema: { type: 'object' } }]);
  }
  return body;
}

describe.each(['openai', 'anthropic'] as const)('openai SDK responses.create → %s upstream', (upstream) => {
  const model = modelFor[upstream];
  const base = { model, instructions: 'You are terse.', input: 'What is the weather in Paris?' };

  it('answers plain text, non-streamed: output_text, status, usage', async () => {
    const response = await setup.openaiClient.responses.create({ ...base, max_output_tokens: 100 });
    expect(response.object).toBe('response');
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe(upstreamText[upstream]);
    expect(response.output).toEqual([expect.objectContaining({ type: 'message', role: 'assistant', status: 'completed' })]);
    expect(response.usage?.input_tokens).toBeGreaterThan(0);
    expect(response.usage?.output_tokens).toBeGreaterThan(0);
    expect((response as unknown as { store: unknown }).store).toBe(false);
    const body = checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: false, tools: false });
    expect(body[upstream === 'openai' ? 'max_tokens' : 'max_tokens']).toBe(100);
  });

  it('answers a tool call, non-streamed, and takes its output back on the next turn', async () => {
    const response = await setup.openaiClient.responses.create({ ...base, tools: [weatherTool] });
    const call = response.output.find((item) => item.type === 'function_call');
    expect(call?.type).toBe('function_call');
    if (call?.type !== 'function_call') return;
    expect(call.name).toBe('get_weather');
    expect(call.call_id).not.toBe('');
    expect(JSON.parse(call.arguments)).toEqual(expectedArguments);
    checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: false, tools: true });

    const followUp = await setup.openaiClient.responses.create({
      model,
      instructions: 'You are terse.',
      store: false,
      input: [
        { role: 'user', content: 'What is the weather in Paris?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: '{"temperature":21}' },
      ],
    });
    expect(followUp.output_text).toBe(upstreamText[upstream]);
    const sent = checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: false, tools: false });
    const sentText = JSON.stringify(sent['messages']);
    expect(sentText).toContain(call.call_id);
    expect(sentText).toContain('{\\"temperature\\":21}');
  });

  it('streams text as typed response.* events in order, then response.completed with usage', async () => {
    const stream = await setup.openaiClient.responses.create({ ...base, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const types = events.map((event) => event.type);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_event, index) => index));
    const text = events.map((event) => (event.type === 'response.output_text.delta' ? event.delta : '')).join('');
    expect(text).toBe(upstreamText[upstream]);
    const completed = events.at(-1);
    expect(completed?.type === 'response.completed' ? completed.response.usage?.output_tokens : 0).toBeGreaterThan(0);
    const message = completed?.type === 'response.completed' ? completed.response.output[0] : undefined;
    expect(message?.type === 'message' ? message.content[0] : undefined).toEqual({ type: 'output_text', text: upstreamText[upstream], annotations: [] });
    checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: true, tools: false });
  });

  it('streams a tool call: item added, argument deltas that reassemble, item done', async () => {
    const stream = await setup.openaiClient.responses.create({ ...base, tools: [weatherTool], stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const added = events.find((event) => event.type === 'response.output_item.added' && event.item.type === 'function_call');
    const deltas = events.map((event) => (event.type === 'response.function_call_arguments.delta' ? event.delta : '')).join('');
    expect(JSON.parse(deltas)).toEqual(expectedArguments);
    const done = events.find((event) => event.type === 'response.output_item.done' && event.item.type === 'function_call');
    expect(added).toBeDefined();
    expect(done?.type === 'response.output_item.done' && done.item.type === 'function_call' ? done.item.name : undefined).toBe('get_weather');
    expect(events.at(-1)?.type).toBe('response.completed');
    checkUpstreamRequest(upstream, stubFor(upstream).requests.at(-1), { stream: true, tools: true });
  });

  it('gives the same answer through the SDK stream helper (finalResponse)', async () => {
    const runner = setup.openaiClient.responses.stream({ ...base, tools: [weatherTool] });
    const final = await runner.finalResponse();
    const call = final.output.find((item) => item.type === 'function_call');
    expect(call?.type === 'function_call' ? JSON.parse(call.arguments) : undefined).toEqual(expectedArguments);
  });
});
