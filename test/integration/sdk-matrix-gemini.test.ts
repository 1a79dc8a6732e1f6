import type Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI, Type, type Content } from '@google/genai';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureFromCallId } from '../../src/formats/gemini/upstream-answer.js';
import type { ExchangeObserver } from '../../src/server/exchange.js';
import { startGeminiStub, type RecordedRequest, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * The Gemini column of the SDK matrix: the real `openai`, `@anthropic-ai/sdk` and `@google/genai`
 * clients through the gateway to a Gemini stub upstream (provider `gem`, type gemini), streamed and
 * not, each with a tool-call round trip. (The other six cells: sdk-matrix.test.ts for OpenAI and
 * Anthropic clients, gemini-sdk.test.ts for the Google client, against the OpenAI and Anthropic
 * stubs.) Each case checks what Gemini received: its own wire format at the model's URL, the
 * upstream key in x-goog-api-key and never the client key, and on the second turn the call's
 * thoughtSignature back on the functionCall.
 */
const geminiKey = 'test-upstream-key-0201';
const upstreamText = 'Hello from the Gemini stub.';
const expectedArguments = { location: 'Paris, France', unit: 'celsius' };
const recordedSignature = (stream: boolean): string => (stream ? 'Zml4dHVyZS10aG91Z2h0LXNpZ25hdHVyZS0wMDAy' : 'Zml4dHVyZS10aG91Z2h0LXNpZ25hdHVyZS0wMDAx');
const weatherParameters = { type: 'object' as const, properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['location'] };

const usageSeen: { bridge: string | undefined; inputTokens: number | undefined; outputTokens: number | undefined }[] = [];
const observer: ExchangeObserver = { name: 'gemini-upstream-usage', end: (exchange) => void usageSeen.push({ bridge: exchange.route?.bridge, inputTokens: exchange.usage?.inputTokens, outputTokens: exchange.usage?.outputTokens }) };

let setup: StandardSetup;
let gemini: StubUpstream;
let google: GoogleGenAI;
beforeAll(async () => {
  gemini = await startGeminiStub();
  setup = await startStandardSetup({
    exchangeObservers: [observer],
    extraProviders: () => ({ gem: { type: 'gemini', base_url: gemini.baseUrl, api_keys: [geminiKey], models: [{ name: 'gemini-test', alias: 'gemini-alias' }] } }),
  });
  google = new GoogleGenAI({ apiKey: setup.testGateway.clientKey, httpOptions: { baseUrl: setup.testGateway.url } });
});
afterAll(async () => {
  await setup.stop();
  await gemini.close();
});

/** The last request Gemini got: the model's URL, the stream method when streamed, the upstream key only. */
function checkUpstream(stream: boolean): RecordedRequest {
  const request = gemini.requests.at(-1) as RecordedRequest;
  expect(request.path).toBe(stream ? '/v1beta/models/gemini-test:streamGenerateContent?alt=sse' : '/v1beta/models/gemini-test:generateContent');
  expect(request.headers['x-goog-api-key']).toBe(geminiKey);
  expect(request.headers.authorization).toBeUndefined();
  expect(JSON.stringify(request.headers) + request.rawBody).not.toContain(setup.testGateway.clientKey);
  expect(request.body).toMatchObject({ contents: expect.any(Array) });
  return request;
}

/** The second turn reached Gemini with the call as a functionCall carrying its signature, and the result by name. */
function checkSecondTurn(stream: boolean): void {
  const body = checkUpstream(stream).body as { contents: Content[] };
  const model = body.contents.find((content) => content.role === 'model');
  expect(model?.parts?.[0]).toEqual({ functionCall: { name: 'get_weather', args: expectedArguments }, thoughtSignature: recordedSignature(stream) });
  expect(body.contents.at(-1)?.parts?.[0]?.functionResponse).toMatchObject({ name: 'get_weather', response: { temperature: 18 } });
}

describe.each([false, true])('OpenAI SDK → Gemini upstream (stream: %s)', (stream) => {
  const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: weatherParameters } }];

  async function ask(messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[], withTools: boolean): Promise<OpenAI.Chat.Completions.ChatCompletion> {
    const base = { model: 'gemini-test', messages, ...(withTools ? { tools } : {}) };
    if (!stream) return setup.openaiClient.chat.completions.create(base);
    const runner = setup.openaiClient.chat.completions.stream({ ...base, stream: true, stream_options: { include_usage: true } });
    return runner.finalChatCompletion();
  }

  it('answers text with usage, the system prompt as systemInstruction', async () => {
    const answer = await ask([{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Hi' }], false);
    expect(answer.choices[0]?.message.content).toBe(upstreamText);
    expect(answer.choices[0]?.finish_reason).toBe('stop');
    expect(answer.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 7 });
    expect(checkUpstream(stream).body).toMatchObject({ systemInstruction: { parts: [{ text: 'You are terse.' }] } });
  });

  it('makes a tool-call round trip: the call with a synthesised id, its signature back to Gemini on the next turn', async () => {
    const question: OpenAI.Chat.Completions.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Paris?' };
    const first = await ask([question], true);
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' ? JSON.parse(call.function.arguments) : undefined).toEqual(expectedArguments);
    expect(signatureFromCallId(call?.id ?? '')).toBe(recordedSignature(stream));
    expect(checkUpstream(stream).body).toMatchObject({ tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { location: { type: 'STRING' } } } }] }] });
    await ask([question, first.choices[0]?.message as OpenAI.Chat.Completions.ChatCompletionMessageParam, { role: 'tool', tool_call_id: call?.id ?? '', content: '{"temperature":18}' }], true);
    checkSecondTurn(stream);
  });
});

describe.each([false, true])('Anthropic SDK → Gemini upstream (stream: %s)', (stream) => {
  const tools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: weatherParameters }];

  async function ask(messages: Anthropic.MessageParam[], withTools: boolean): Promise<Anthropic.Message> {
    const base = { model: 'gemini-test', max_tokens: 256, system: 'You are terse.', messages, ...(withTools ? { tools } : {}) };
    if (!stream) return setup.anthropicClient.messages.create(base);
    return setup.anthropicClient.messages.stream(base).finalMessage();
  }

  it('answers text with usage, the system prompt as systemInstruction', async () => {
    const answer = await ask([{ role: 'user', content: 'Hi' }], false);
    expect(answer.content).toEqual([{ type: 'text', text: upstreamText }]);
    expect(answer.stop_reason).toBe('end_turn');
    expect(answer.usage).toMatchObject({ input_tokens: 12, output_tokens: 7 });
    expect(checkUpstream(stream).body).toMatchObject({ systemInstruction: { parts: [{ text: 'You are terse.' }] }, generationConfig: { maxOutputTokens: 256 } });
  });

  it('makes a tool-call round trip: tool_use with a synthesised id, its signature back to Gemini on the next turn', async () => {
    const question: Anthropic.MessageParam = { role: 'user', content: 'Weather in Paris?' };
    const first = await ask([question], true);
    const toolUse = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(first.stop_reason).toBe('tool_use');
    expect(toolUse?.input).toEqual(expectedArguments);
    expect(signatureFromCallId(toolUse?.id ?? '')).toBe(recordedSignature(stream));
    if (stream) expect(first.content[0]).toMatchObject({ type: 'thinking', thinking: 'Looking up the weather in Paris.' });
    await ask([question, { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse?.id ?? '', content: '{"temperature":18}' }] }], true);
    checkSecondTurn(stream);
    // The thinking block the client replays is Anthropic-shaped and never reaches Gemini.
    expect(gemini.requests.at(-1)?.rawBody).not.toContain('Looking up the weather');
  });
});

describe.each([false, true])('@google/genai → Gemini upstream, pass-through (stream: %s)', (stream) => {
  const tools = [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: Type.OBJECT, properties: { location: { type: Type.STRING } } } }] }];

  async function ask(contents: Content[], withTools: boolean): Promise<{ text: string; calls: { name?: string; args?: Record<string, unknown> }[]; modelParts: Content['parts'] }> {
    const request = { model: 'gemini-alias', contents, config: withTools ? { tools } : {} };
    if (!stream) {
      const answer = await google.models.generateContent(request);
      return { text: answer.text ?? '', calls: answer.functionCalls ?? [], modelParts: answer.candidates?.[0]?.content?.parts };
    }
    let text = '';
    const calls: { name?: string; args?: Record<string, unknown> }[] = [];
    const modelParts: NonNullable<Content['parts']> = [];
    for await (const chunk of await google.models.generateContentStream(request)) {
      text += chunk.text ?? '';
      calls.push(...(chunk.functionCalls ?? []));
      modelParts.push(...(chunk.candidates?.[0]?.content?.parts ?? []));
    }
    return { text, calls, modelParts };
  }

  it('answers text; the alias becomes the URL model while the body goes up as the SDK sent it', async () => {
    const answer = await ask([{ role: 'user', parts: [{ text: 'Hi' }] }], false);
    expect(answer.text).toBe(upstreamText);
    // What @google/genai 1.x sends for this call, including its empty generationConfig.
    expect(checkUpstream(stream).body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], generationConfig: {} });
  });

  it('makes a function-call round trip with the thoughtSignature kept by the client and returned untouched', async () => {
    const question: Content = { role: 'user', parts: [{ text: 'Weather in Paris?' }] };
    const first = await ask([question], true);
    expect(first.calls[0]).toMatchObject({ name: 'get_weather', args: expectedArguments });
    const callPart = first.modelParts?.find((part) => part.functionCall !== undefined);
    expect(callPart?.thoughtSignature).toBe(recordedSignature(stream));
    await ask([question, { role: 'model', parts: [callPart ?? {}] }, { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temperature: 18 } } }] }], true);
    checkSecondTurn(stream);
  });
});

describe('usage of Gemini answers in the per-request record', () => {
  it('is read for translated and relayed answers, streamed or not', () => {
    const geminiRows = usageSeen.filter((row) => row.bridge?.endsWith('gemini') === true || row.bridge === 'gemini-pass-through');
    expect(new Set(geminiRows.map((row) => row.bridge))).toEqual(new Set(['openai-chat-to-gemini', 'anthropic-messages-to-gemini', 'gemini-pass-through']));
    for (const row of geminiRows) expect(row.inputTokens, JSON.stringify(row)).toBeGreaterThan(0);
  });
});
