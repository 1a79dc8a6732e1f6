import { FunctionCallingConfigMode, GoogleGenAI, Type, type Content } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeObserver } from '../../src/server/exchange.js';
import type { StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * The real `@google/genai` SDK (1.x) through the gateway's Gemini surface, against the OpenAI and
 * the Anthropic stub upstreams: text, a function-call round trip (the call's id synthesised or
 * carried, the functionResponse paired with it upstream), streaming, countTokens, the model list,
 * Gemini-shaped errors, and usage reaching the per-request record.
 */
type Side = 'openai' | 'anthropic';
const modelFor: Record<Side, string> = { openai: 'gpt-test', anthropic: 'claude-test' };
const upstreamText: Record<Side, string> = { openai: 'Hello from the OpenAI stub.', anthropic: 'Hello from the Anthropic stub.' };

const usageSeen: { inputTokens: number | undefined; outputTokens: number | undefined; bridge: string | undefined }[] = [];
const observer: ExchangeObserver = {
  name: 'gemini-usage-recorder',
  end: (exchange) => {
    if (exchange.surface === 'gemini') usageSeen.push({ inputTokens: exchange.usage?.inputTokens, outputTokens: exchange.usage?.outputTokens, bridge: exchange.route?.bridge });
  },
};

let setup: StandardSetup;
let client: GoogleGenAI;
beforeAll(async () => {
  setup = await startStandardSetup({ exchangeObservers: [observer] });
  client = new GoogleGenAI({ apiKey: setup.testGateway.clientKey, httpOptions: { baseUrl: setup.testGateway.url } });
});
afterAll(() => setup.stop());

const stubFor = (side: Side): StubUpstream => (side === 'openai' ? setup.openaiStub : setup.anthropicStub);

const weatherDeclaration = {
  name: 'get_weather',
  description: 'Current weather for a place',
  parameters: {
    type: Type.OBJECT,
    properties: { location: { type: Type.STRING }, unit: { type: Type.STRING, enum: ['celsius', 'fahrenheit'] } },
    required: ['location'],
  },
};

describe.each<Side>(['openai', 'anthropic'])('@google/genai → %s upstream', (side) => {
  const model = modelFor[side];

  it('answers plain text with usageMetadata, the system instruction and caps translated upstream', async () => {
    const response = await client.models.generateContent({
      model,
      contents: 'What is the weather in Paris?',
      config: { systemInstruction: 'You are terse.', maxOutputTokens: 50, temperature: 0.5, stopSequences: ['END'] },
    });
    expect(response.text).toBe(upstreamText[side]);
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    expect(response.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    expect(response.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
    const upstream = stubFor(side).requests.at(-1);
    const body = upstream?.body as Record<string, unknown>;
    expect(body.model).toBe(model);
    expect(JSON.stringify(upstream?.headers)).not.toContain(setup.testGateway.clientKey);
    if (side === 'openai') {
      expect(body.messages).toEqual([
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What is the weather in Paris?' },
      ]);
      expect(body).toMatchObject({ max_tokens: 50, temperature: 0.5, stop: ['END'] });
    } else {
      expect(body).toMatchObject({ system: 'You are terse.', max_tokens: 50, temperature: 0.5, stop_sequences: ['END'] });
      expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'What is the weather in Paris?' }] }]);
    }
  });

  it('makes a function-call round trip: upper-case schema types become JSON Schema, the response pairs with the call', async () => {
    const tools = [{ functionDeclarations: [weatherDeclaration] }];
    const question: Content = { role: 'user', parts: [{ text: 'What is the weather in Paris?' }] };
    const first = await client.models.generateContent({ model, contents: [question], config: { tools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } } } });
    const call = first.functionCalls?.[0];
    expect(call?.name).toBe('get_weather');
    expect(call?.args).toEqual({ location: 'Paris, France', unit: 'celsius' });
    expect(call?.id).toMatch(/^[A-Za-z0-9_-]+$/);
    const firstUpstream = stubFor(side).requests.at(-1)?.body as Record<string, unknown>;
    const schema = side === 'openai' ? (firstUpstream.tools as { function: { parameters: unknown } }[])[0]?.function.parameters : (firstUpstream.tools as { input_schema: unknown }[])[0]?.input_schema;
    expect(schema).toEqual({ type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['location'] });

    // The Gemini CLI sends the call back without its id; the gateway pairs the response by name.
    const modelTurn: Content = { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: call?.args ?? {} } }] };
    const answer: Content = { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temperature: 18 } } }] };
    const second = await client.models.generateContent({ model, contents: [question, modelTurn, answer], config: { tools } });
    // The stubs answer whatever offers get_weather with the recorded call again: the upstream body is what counts.
    expect(second.candidates?.[0]?.finishReason).toBe('STOP');
    const upstreamBody = stubFor(side).requests.at(-1)?.body as { messages: Record<string, unknown>[] };
    if (side === 'openai') {
      const assistant = upstreamBody.messages[1] as { tool_calls: { id: string; function: { name: string; arguments: string } }[] };
      const toolMessage = upstreamBody.messages[2];
      expect(assistant.tool_calls[0]?.function).toEqual({ name: 'get_weather', arguments: JSON.stringify(call?.args) });
      expect(toolMessage).toEqual({ role: 'tool', tool_call_id: assistant.tool_calls[0]?.id, content: '{"temperature":18}' });
    } else {
      const assistant = upstreamBody.messages[1] as { content: { type: string; id: string }[] };
      const result = upstreamBody.messages[2] as { content: { type: string; tool_use_id: string; content: string }[] };
      expect(assistant.content[0]?.type).toBe('tool_use');
      expect(result.content[0]).toEqual({ type: 'tool_result', tool_use_id: assistant.content[0]?.id, content: '{"temperature":18}' });
    }
  });

  it('streams text with alt=sse through generateContentStream, usage in the last chunk', async () => {
    const stream = await client.models.generateContentStream({ model, contents: 'What is the weather in Paris?' });
    let text = '';
    const finishReasons: string[] = [];
    let promptTokens: number | undefined;
    for await (const chunk of stream) {
      text += chunk.text ?? '';
      const finish = chunk.candidates?.[0]?.finishReason;
      if (finish !== undefined) finishReasons.push(finish);
      promptTokens = chunk.usageMetadata?.promptTokenCount ?? promptTokens;
    }
    expect(text).toBe(upstreamText[side]);
    expect(finishReasons).toEqual(['STOP']);
    expect(promptTokens).toBeGreaterThan(0);
    expect((stubFor(side).requests.at(-1)?.body as { stream?: boolean }).stream).toBe(true);
  });

  it('streams a function call whole', async () => {
    const stream = await client.models.generateContentStream({ model, contents: 'Weather in Paris?', config: { tools: [{ functionDeclarations: [weatherDeclaration] }] } });
    const calls: { name?: string; args?: Record<string, unknown> }[] = [];
    for await (const chunk of stream) calls.push(...(chunk.functionCalls ?? []));
    expect(calls.map((call) => [call.name, call.args])).toEqual([['get_weather', { location: 'Paris, France', unit: 'celsius' }]]);
  });

  it('counts tokens (estimated) for a served model', async () => {
    const counted = await client.models.countTokens({ model, contents: 'What is the weather in Paris?' });
    expect(counted.totalTokens).toBeGreaterThan(0);
  });

  // The SDK refuses generationConfig in countTokens for the Gemini API, so the whole-request form goes raw.
  it('counts a request whatever its generation settings (temperature 1.5 included), still refusing a part it cannot carry', async () => {
    const count = (body: unknown): Promise<Response> =>
      fetch(`${setup.testGateway.url}/v1beta/models/${model}:countTokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': setup.testGateway.clientKey },
        body: JSON.stringify(body),
      });
    const contents = [{ role: 'user', parts: [{ text: 'What is the weather in Paris?' }] }];
    const plain = await count({ generateContentRequest: { contents } });
    expect(plain.status).toBe(200);
    const plainCount = ((await plain.json()) as { totalTokens: number }).totalTokens;
    const generationConfig = { temperature: 1.5, topP: 0.5, topK: 7.5, maxOutputTokens: 99, stopSequences: ['END'], candidateCount: 2 };
    const configured = await count({ generateContentRequest: { contents, generationConfig } });
    expect(configured.status).toBe(200);
    expect(configured.headers.get('x-token-count-estimated')).toBe('true');
    expect(await configured.json()).toEqual({ totalTokens: plainCount });
    const unknownPart = await count({ contents: [{ role: 'user', parts: [{ executableCode: { code: 'print(1)' } }] }] });
    expect(unknownPart.status).toBe(400);
  });
});

describe('Gemini surface: the rest', () => {
  it('lists the same models as /v1/models in Gemini shape', async () => {
    const pager = await client.models.list();
    const names: string[] = [];
    for await (const model of pager) names.push(model.name ?? '');
    const openaiList = await setup.openaiClient.models.list();
    expect(names.sort()).toEqual(openaiList.data.map((model) => `models/${model.id}`).sort());
  });

  it('streams a JSON array without alt=sse, closed with ] so the body parses whole', async () => {
    const response = await fetch(`${setup.testGateway.url}/v1beta/models/gpt-test:streamGenerateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': setup.testGateway.clientKey },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const chunks = JSON.parse(await response.text()) as { candidates: { content: { parts: { text?: string }[] } }[] }[];
    expect(chunks.map((chunk) => chunk.candidates[0]?.content.parts.map((part) => part.text ?? '').join('')).join('')).toBe(upstreamText.openai);
  });

  it('refuses an unknown model, a bad body and maxOutputTokens over the cap in Gemini error shape, the key in ?key=', async () => {
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${setup.testGateway.url}/v1beta/models/${path}?key=${setup.testGateway.clientKey}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const unknown = await post('no-such-model:generateContent', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    const bad = await post('gpt-test:generateContent', { contents: 'not an array' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    const overCap = await post('gpt-test:generateContent', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { maxOutputTokens: 10_000_000 } });
    expect(overCap.status).toBe(400);
    expect(((await overCap.json()) as { error: { message: string } }).error.message).toContain('generationConfig.maxOutputTokens 10000000 is above');
    // countTokens ignores temperature (test above); generating still refuses what Anthropic's 0..1 cannot take.
    const hotAnthropic = await post('claude-test:generateContent', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { temperature: 1.5 } });
    expect(hotAnthropic.status).toBe(400);
    expect(((await hotAnthropic.json()) as { error: { message: string } }).error.message).toContain('temperature must be between 0 and 1');
    const orphan = await post('claude-test:generateContent', { contents: [{ role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: {} } }] }] });
    expect(orphan.status).toBe(400);
    const noKey = await fetch(`${setup.testGateway.url}/v1beta/models/gpt-test:generateContent`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
  });

  it('reports usage to the per-request record, streamed and not, through the Gemini bridges', () => {
    const bridges = new Set(usageSeen.filter((seen) => (seen.inputTokens ?? 0) > 0 && (seen.outputTokens ?? 0) > 0).map((seen) => seen.bridge));
    expect([...bridges].sort()).toEqual(['gemini-to-anthropic-messages', 'gemini-to-openai-chat']);
  });
});
