import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { isGatewayError } from '../../errors/gateway-error.js';
import type * as ChunkScan from '../../formats/openai/stream-chunk-scan.js';
import type { WireFormat } from '../../formats/wire-format.js';
import { oddPieces } from '../../../test/helpers/translator-testing.js';
import { bridgeFor } from './registry.js';
import { outputBeforeFailure } from './sse-transformer.js';
import type { BridgeContext } from './types.js';

/**
 * The translators read a plain OpenAI content chunk without JSON.parse
 * (formats/openai/stream-chunk-scan.ts). Proof that the client never sees a difference: every
 * bridge whose translator reads OpenAI chat chunks (directly, or behind a chat pivot) replays the
 * recorded streams and adversarial ones twice, with the fast path and with the reader switched off
 * (every chunk parsed, as before), and the bytes out and the failure must be the same.
 */
const fastPath = vi.hoisted(() => ({ enabled: true }));
vi.mock('../../formats/openai/stream-chunk-scan.js', async (importOriginal) => {
  const original = await importOriginal<typeof ChunkScan>();
  return {
    ...original,
    createOpenAIContentChunkReader: () => {
      const reader = original.createOpenAIContentChunkReader();
      return { read: (data: string) => (fastPath.enabled ? reader.read(data) : undefined) };
    },
  };
});

interface Stream {
  name: string;
  upstreamFormat: WireFormat;
  text: string;
}

const fixtureStreams = (folder: string, upstreamFormat: WireFormat): Stream[] => {
  const directory = new URL(`../../translate/${folder}/__fixtures__/`, import.meta.url);
  return readdirSync(directory)
    .filter((file) => file.endsWith('.chunks.txt'))
    .map((file) => ({ name: `${folder}/${file}`, upstreamFormat, text: readFileSync(new URL(file, directory), 'utf8') }));
};

const recordedOpenAI: Stream[] = readdirSync(new URL('../../../test/fixtures/recorded/openai/', import.meta.url))
  .filter((file) => file.endsWith('.chunks.txt'))
  .map((file) => {
    const lines = readFileSync(new URL(`../../../test/fixtures/recorded/openai/${file}`, import.meta.url), 'utf8').split('\n');
    return { name: `recorded/openai/${file}`, upstreamFormat: 'openai-chat', text: `${lines.filter((line) => line.trim() !== '').map((line) => `data: ${line}\n\n`).join('')}data: [DONE]\n\n` };
  });

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}, finishReason: string | null = null): string =>
  JSON.stringify({ id: 'chatcmpl-adv1', object: 'chat.completion.chunk', created: 1_735_689_600, model: 'gpt-up', choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...extra });

/** Chunks a careless fast path would misread, each placed between plain chunks (so the reader has a template). */
const adversarial: [string, string][] = [
  ['escaped quotes and backslashes', chunk({ content: 'say "hi" \\ there \\"' })],
  ['unicode escapes and a lone surrogate', chunk({ content: 'caf\u00e9 \u2028 \ud83d\ude00 \ud800' }).replace('é', '\\u00e9')],
  ['content null', chunk({ content: null })],
  ['empty content', chunk({ content: '' })],
  ['extra fields', chunk({ content: 'x' }, { system_fingerprint: 'fp_1', service_tier: 'default', obfuscation: 'aB3', usage: null })],
  ['unknown field', chunk({ content: 'x' }, { surprise: { nested: true } })],
  ['key order changed', '{"choices":[{"delta":{"content":"moved"},"finish_reason":null,"index":0}],"model":"gpt-moved","id":"chatcmpl-moved"}'],
  ['braces and quotes inside strings', chunk({ content: '{"content":"x"}]}},"finish_reason":"stop"' })],
  ['tool call', chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get', arguments: '{"a":' } }] })],
  ['reasoning', chunk({ content: 'y', reasoning_content: 'think' })],
  ['refusal', chunk({ refusal: 'no' })],
  ['duplicate content key', '{"id":"chatcmpl-adv1","choices":[{"index":0,"delta":{"content":"first","content":"second"}}]}'],
  ['whitespace', '{"id":"chatcmpl-adv1", "choices":[{"index":0,"delta":{"content":"spaced"}}]}'],
  ['template with a quote pasted in', `${chunk({ content: 'a' }).split('"content":"a"').join('"content":"a","refusal":"b"')}`],
  ['template with a bad escape', chunk({ content: '@@' }).replace('@@', 'bad \\q')],
  ['an upstream error', chunk({ content: 'x' }, { error: { message: 'boom' } })],
  ['not JSON', '{"id":"chatcmpl-adv1","choices":[{"index":0,"delta":{"content":"cut'],
  ['the last text with its finish_reason', chunk({ content: 'last' }, {}, 'stop')],
  ['text with a length finish_reason, then more text', chunk({ content: 'cut' }, {}, 'length')],
  ['a finish_reason that needs unescaping', chunk({ content: 'x' }, {}, 'con"tent_\u0041filter')],
];

const adversarialStreams: Stream[] = adversarial.map(([name, odd]) => {
  const events = [
    chunk({ role: 'assistant', content: '', refusal: null }),
    chunk({ content: 'Hello' }),
    chunk({ content: ' there' }),
    odd,
    chunk({ content: ' again' }),
    chunk({}, {}, 'stop'),
    JSON.stringify({ id: 'chatcmpl-adv1', object: 'chat.completion.chunk', created: 1_735_689_600, model: 'gpt-up', choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } }),
    '[DONE]',
  ];
  return { name: `adversarial: ${name}`, upstreamFormat: 'openai-chat', text: events.map((data) => `data: ${data}\n\n`).join('') };
});

/** Streams whose last text carries the finish_reason (the benchmark stub's, vLLM's shape): no finish chunk after it. */
const finishedWithText: Stream[] = ['stop', 'length', 'tool_calls', 'content_filter'].map((finishReason) => ({
  name: `last text with finish_reason ${finishReason}`,
  upstreamFormat: 'openai-chat',
  text: [
    chunk({ role: 'assistant', content: 'Hello' }),
    chunk({ content: ' there' }),
    chunk({ content: ' again' }, {}, finishReason),
    JSON.stringify({ id: 'chatcmpl-adv1', object: 'chat.completion.chunk', created: 1_735_689_600, model: 'gpt-up', choices: [], usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } }),
    '[DONE]',
  ]
    .map((data) => `data: ${data}\n\n`)
    .join(''),
}));

const streams: Stream[] = [
  ...finishedWithText,
  ...fixtureStreams('anthropic-to-openai', 'openai-chat'),
  ...fixtureStreams('gemini-to-openai', 'openai-chat'),
  ...fixtureStreams('responses-to-openai', 'openai-chat'),
  ...recordedOpenAI,
  ...adversarialStreams,
  // Behind a chat pivot (composed-bridge.ts) the client side reads the chat chunks the upstream side writes.
  ...fixtureStreams('openai-to-responses', 'openai-responses'),
  ...fixtureStreams('openai-to-gemini', 'gemini'),
];

/** Client views of bridges with an OpenAI-chunk reader: Gemini in both framings. */
const views: { client: WireFormat; framing: 'sse' | 'json-array' }[] = [
  { client: 'anthropic-messages', framing: 'sse' },
  { client: 'openai-responses', framing: 'sse' },
  { client: 'gemini', framing: 'sse' },
  { client: 'gemini', framing: 'json-array' },
];

function contextFor(client: WireFormat, framing: 'sse' | 'json-array'): BridgeContext {
  return {
    requestedModel: 'client-model',
    upstreamModel: 'upstream-model',
    created: 1_735_689_600,
    requestId: 'req-fast-1',
    stream: true,
    streamFraming: framing,
    clientBody:
      client === 'gemini'
        ? { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }
        : client === 'openai-responses'
          ? { model: 'client-model', input: 'hi', stream: true }
          : { model: 'client-model', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true },
  };
}

/** Every byte the client gets, then the failure's code and message. */
function clientView(view: (typeof views)[number], stream: Stream, pieces: Buffer[], fast: boolean): string {
  fastPath.enabled = fast;
  const bridge = bridgeFor(view.client, stream.upstreamFormat);
  if (bridge === undefined) return '(no bridge)';
  const context = contextFor(view.client, view.framing);
  bridge.upstreamBody(context, Buffer.from(JSON.stringify(context.clientBody)), { defaultMaxTokens: 4096 });
  const transformer = bridge.streamTransformer(context);
  let written = '';
  try {
    for (const piece of pieces) written += String(transformer.push(piece));
    written += String(transformer.flush());
  } catch (error) {
    const { output, cause } = outputBeforeFailure(transformer, error);
    written += `${String(output)}\n[error] ${isGatewayError(cause) ? `${cause.code}: ${cause.message}` : String(cause)}`;
  }
  return written;
}

describe('the OpenAI content-chunk fast path gives every client the bytes the parsed path gives', () => {
  it('has streams of every kind', () => {
    expect(streams.length).toBeGreaterThan(25);
  });

  describe.each(streams)('$name', (stream) => {
    it.each(views)('to $client ($framing)', (view) => {
      const bytes = Buffer.from(stream.text);
      for (const pieces of [[bytes], oddPieces(bytes, [7, 61, 3, 130])]) {
        const slow = clientView(view, stream, pieces, false);
        const fast = clientView(view, stream, pieces, true);
        expect(fast).toBe(slow);
      }
    });
  });

  it('is taken: with it on, the recorded text stream is read without JSON.parse for most chunks', () => {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const stream = fixtureStreams('anthropic-to-openai', 'openai-chat').find((candidate) => candidate.name.endsWith('/text.chunks.txt'));
      if (stream === undefined) throw new Error('no text fixture');
      clientView(views[0] ?? { client: 'anthropic-messages', framing: 'sse' }, stream, [Buffer.from(stream.text)], true);
      const withFastPath = parse.mock.calls.length;
      parse.mockClear();
      clientView(views[0] ?? { client: 'anthropic-messages', framing: 'sse' }, stream, [Buffer.from(stream.text)], false);
      expect(withFastPath).toBeLessThan(parse.mock.calls.length / 2);
    } finally {
      parse.mockRestore();
    }
  });
});
