import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../errors/gateway-error.js';
import { randomPieces, seededRandom } from '../../../test/helpers/translator-testing.js';
import { anthropicToOpenAIBridge } from './anthropic-to-openai.js';
import { composeBridges } from './composed-bridge.js';
import { geminiToOpenAIBridge } from './gemini-to-openai.js';
import { openaiToCodexBridge } from './openai-to-codex.js';
import { openaiToGeminiBridge } from './openai-to-gemini.js';
import { responsesToOpenAIBridge } from './responses-to-openai.js';
import { outputBeforeFailure } from './sse-transformer.js';
import type { BridgeContext, FormatBridge } from './types.js';

/**
 * A composed bridge hands its chat chunks from one half to the other as objects
 * (composeEventStreams), no longer as SSE text written and parsed again. Proof that the client
 * never sees a difference: each composed pair replays every recorded upstream stream of its upstream
 * format and adversarial ones (escapes, unicode, tool calls, an upstream error, a cut stream, a
 * garbled event), whole, one piece per event, in random pieces and broken off part-way, through the
 * object path and through the text path (the same halves with the upstream half's chatEventSource
 * taken away), and the bytes, the failure and the error event must be the same.
 */
const translateDirectory = new URL('../../translate/', import.meta.url);
const recordedDirectory = new URL('../../../test/fixtures/recorded/', import.meta.url);

const fixtureTexts = (folder: string, suffixes: string[]): string[] =>
  readdirSync(new URL(`${folder}/__fixtures__/`, translateDirectory))
    .filter((file) => suffixes.some((suffix) => file.endsWith(suffix)))
    .map((file) => readFileSync(new URL(`${folder}/__fixtures__/${file}`, translateDirectory), 'utf8'));

/** The stubs' recordings: one JSON payload per line, framed as the upstream sends it. */
const recordedTexts = (folder: string, frame: (line: string) => string): string[] =>
  readdirSync(new URL(`${folder}/`, recordedDirectory))
    .filter((file) => file.endsWith('.chunks.txt'))
    .map((file) =>
      readFileSync(new URL(`${folder}/${file}`, recordedDirectory), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map(frame)
        .join(''),
    );

const awkward = 'say "hi" \\ there\n\ttab \u0000 é 😀 \u2028 </script>';

const responsesEvent = (type: string, fields: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
const responseObject = (status: string, output: unknown[] = []): Record<string, unknown> => ({
  id: 'resp_adv1',
  object: 'response',
  created_at: 1_735_689_600,
  status,
  model: 'codex-up',
  output,
  usage: status === 'in_progress' ? null : { input_tokens: 5, output_tokens: 7, total_tokens: 12, input_tokens_details: { cached_tokens: 2 } },
});
const responsesText = [
  responsesEvent('response.created', { sequence_number: 0, response: responseObject('in_progress') }),
  responsesEvent('response.output_text.delta', { sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: awkward }),
  responsesEvent('response.output_text.delta', { sequence_number: 2, item_id: 'msg_1', output_index: 0, content_index: 0, delta: '' }),
  responsesEvent('response.output_item.added', { sequence_number: 3, output_index: 1, item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '' } }),
  responsesEvent('response.function_call_arguments.delta', { sequence_number: 4, item_id: 'fc_1', output_index: 1, delta: '{"q":"' }),
  responsesEvent('response.function_call_arguments.delta', { sequence_number: 5, item_id: 'fc_1', output_index: 1, delta: 'é 😀 \u2028 </script>"}' }),
  responsesEvent('response.output_item.done', { sequence_number: 6, output_index: 1, item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' } }),
  // Text after a tool call: an Anthropic client's translator holds it until the call is complete, and a failure must still release it.
  responsesEvent('response.output_text.delta', { sequence_number: 7, item_id: 'msg_2', output_index: 2, content_index: 0, delta: 'after the call' }),
].join('');
const responsesStreams: string[] = [
  ...fixtureTexts('openai-to-responses', ['.chunks.txt']),
  ...recordedTexts('responses', (line) => `event: ${(JSON.parse(line) as { type: string }).type}\ndata: ${line}\n\n`),
  responsesText + responsesEvent('response.completed', { sequence_number: 8, response: responseObject('completed') }),
  responsesText + responsesEvent('response.incomplete', { sequence_number: 8, response: { ...responseObject('incomplete'), incomplete_details: { reason: 'max_output_tokens' } } }),
  responsesText + responsesEvent('response.failed', { sequence_number: 8, response: { ...responseObject('failed'), error: { code: 'server_error', message: 'boom "quoted"' } } }),
  responsesText + responsesEvent('error', { sequence_number: 8, message: 'rate limited' }),
  responsesText, // cut before response.completed
  `${responsesText}event: response.output_text.delta\ndata: {"type":"response.output_text.delta",\n\n`,
];

const geminiChunk = (parts: unknown[], extra: Record<string, unknown> = {}): string =>
  `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }], modelVersion: 'gemini-up', responseId: 'adv1' })}\n\n`;
const geminiText = [
  geminiChunk([{ text: awkward }]),
  geminiChunk([{ text: 'thinking…', thought: true }]),
  geminiChunk([{ functionCall: { name: 'lookup', args: { q: awkward } } }]),
  geminiChunk([{ text: '' }]),
].join('');
const geminiStreams: string[] = [
  ...fixtureTexts('openai-to-gemini', ['.chunks.txt', '.array.txt']),
  ...recordedTexts('gemini', (line) => `data: ${line}\n\n`),
  geminiText + geminiChunk([{ text: 'end' }], { finishReason: 'STOP' }).replace('"responseId"', '"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4,"totalTokenCount":7},"responseId"'),
  geminiText + geminiChunk([], { finishReason: 'MAX_TOKENS' }),
  `${geminiText}data: {"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}\n\n`,
  geminiText, // cut before a finishReason
  `${geminiText}data: {"candidates":[\n\n`,
];

interface Pair {
  name: string;
  clientSide: FormatBridge;
  upstreamSide: FormatBridge;
  streams: string[];
  clientBody: Record<string, unknown>;
  streamFraming: BridgeContext['streamFraming'];
}

const anthropicBody = { model: 'client-model', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true };
const geminiBody = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
const pairs: Pair[] = [
  { name: 'anthropic ← chat ← responses', clientSide: anthropicToOpenAIBridge, upstreamSide: openaiToCodexBridge, streams: responsesStreams, clientBody: anthropicBody, streamFraming: 'sse' },
  { name: 'gemini (sse) ← chat ← responses', clientSide: geminiToOpenAIBridge, upstreamSide: openaiToCodexBridge, streams: responsesStreams, clientBody: geminiBody, streamFraming: 'sse' },
  { name: 'gemini (json array) ← chat ← responses', clientSide: geminiToOpenAIBridge, upstreamSide: openaiToCodexBridge, streams: responsesStreams, clientBody: geminiBody, streamFraming: 'json-array' },
  {
    name: 'responses ← chat ← gemini',
    clientSide: responsesToOpenAIBridge,
    upstreamSide: openaiToGeminiBridge,
    streams: geminiStreams,
    clientBody: { model: 'client-model', input: 'hi', stream: true },
    streamFraming: 'sse',
  },
];

/** What the client sees: the bytes written, then the failure and the error event, if the stream failed; `abortAfter` breaks the upstream off after that many pieces. */
function clientView(bridge: FormatBridge, pair: Pair, pieces: Buffer[], abortAfter?: number): string {
  const context: BridgeContext = { requestedModel: 'client-model', upstreamModel: 'upstream-model', created: 1_735_689_600, requestId: 'req-compose-1', stream: true, streamFraming: pair.streamFraming, clientBody: pair.clientBody };
  bridge.upstreamBody(context, Buffer.from(JSON.stringify(pair.clientBody)), { defaultMaxTokens: 1024 });
  const transformer = bridge.streamTransformer(context);
  let text = `[${transformer.contentType ?? 'sse'}]`;
  try {
    for (const [index, piece] of pieces.entries()) {
      if (index === abortAfter) return `${text}${String(transformer.abort())}[aborted]`;
      text += String(transformer.push(piece));
    }
    return text + String(transformer.flush());
  } catch (error) {
    const { output, cause } = outputBeforeFailure(transformer, error);
    const failure = isGatewayError(cause) ? `${cause.code}: ${cause.message}` : String(cause);
    return `${text}${String(output)}[error] ${failure}${transformer.errorEvent?.({ error: { code: 'GW_UPSTREAM_STREAM_FAILED', message: failure } }) ?? ''}`;
  }
}

describe('composed bridges: chat chunks handed on as objects', () => {
  it.each(pairs)('$name reads its upstream half as events, never as text', (pair) => {
    expect('chatEventSource' in pair.upstreamSide).toBe(true);
    const withoutText: FormatBridge = {
      ...pair.upstreamSide,
      streamTransformer: () => {
        throw new Error('the text transformer must not be used');
      },
    };
    const view = clientView(composeBridges(pair.clientSide, withoutText), pair, [Buffer.from(pair.streams[0] ?? '')]);
    expect(view.length).toBeGreaterThan(20);
  });

  it.each(pairs)('$name gives the same bytes, failure and error event as the text pivot', (pair) => {
    const objects = composeBridges(pair.clientSide, pair.upstreamSide);
    const textOnly: FormatBridge = Object.fromEntries(Object.entries(pair.upstreamSide).filter(([key]) => key !== 'chatEventSource')) as unknown as FormatBridge;
    expect('chatEventSource' in textOnly).toBe(false);
    const text = composeBridges(pair.clientSide, textOnly);
    const random = seededRandom(pair.name.length * 7919);
    let failures = 0;
    for (const stream of pair.streams) {
      const bytes = Buffer.from(stream);
      const splits = [[bytes], stream.split(/(?<=\n\n)/).map((event) => Buffer.from(event)), ...Array.from({ length: 12 }, () => randomPieces(bytes, random))];
      for (const pieces of splits) {
        const expected = clientView(text, pair, pieces);
        if (expected.includes('[error]')) failures++;
        expect(clientView(objects, pair, pieces), `${pair.name}, ${pieces.length} pieces of:\n${stream}`).toBe(expected);
        const abortAfter = Math.floor(random() * pieces.length);
        expect(clientView(objects, pair, pieces, abortAfter), `${pair.name}, aborted after ${abortAfter} pieces`).toBe(clientView(text, pair, pieces, abortAfter));
      }
    }
    expect(failures).toBeGreaterThan(0);
  });
});
