import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { WireFormat } from '../../formats/wire-format.js';
import { isGatewayError } from '../../errors/gateway-error.js';
import { randomPieces, seededRandom, splitSeed } from '../../../test/helpers/translator-testing.js';
import { bridgeFor } from './registry.js';
import { outputBeforeFailure } from './sse-transformer.js';
import type { BridgeContext } from './types.js';

/**
 * Property: however TCP cuts an upstream stream into pieces, the client sees the same thing. Every
 * recorded stream (each translator's `__fixtures__/*.chunks.txt`, and the stub upstreams'
 * `test/fixtures/recorded/` streams framed as the stubs send them) goes through every bridge that
 * reads its format, whole and in many random splits. The client-visible result is the bytes out,
 * plus the error event's code and message when the stream fails: so a failure part-way must give
 * the same output before it whether the error arrived in its own piece or with the text before it.
 * The seed is printed; `SPLIT_SEED=<seed>` replays a failing run.
 */
const seed = splitSeed();
const splitsPerStream = 40;

interface RecordedStream {
  name: string;
  upstreamFormat: WireFormat;
  bytes: Buffer;
}

const translateDirectory = new URL('../../translate/', import.meta.url);
/** A translator folder's fixtures are what its upstream sends: `<client>-to-<upstream>`. */
// (responses-to-openai/ and responses-to-anthropic/ hold copies of the two above's streams: not read twice.)
const upstreamFormatOfFolder: Record<string, WireFormat> = { 'openai-to-anthropic': 'anthropic-messages', 'anthropic-to-openai': 'openai-chat', 'openai-to-responses': 'openai-responses' };

function translatorStreams(): RecordedStream[] {
  return Object.entries(upstreamFormatOfFolder).flatMap(([folder, upstreamFormat]) => {
    const directory = new URL(`${folder}/__fixtures__/`, translateDirectory);
    return readdirSync(directory)
      .filter((file) => file.endsWith('.chunks.txt'))
      .map((file) => ({ name: `${folder}/${file}`, upstreamFormat, bytes: readFileSync(new URL(file, directory)) }));
  });
}

/** The stub upstreams' recordings hold one JSON payload per line; framed here as the stubs frame them. */
function stubStreams(): RecordedStream[] {
  const frame = (format: WireFormat, line: string): string => {
    if (format === 'openai-chat') return `data: ${line}\n\n`;
    return `event: ${(JSON.parse(line) as { type: string }).type}\ndata: ${line}\n\n`;
  };
  const recorded = new URL('../../../test/fixtures/recorded/', import.meta.url);
  const folders: [string, WireFormat][] = [
    ['openai', 'openai-chat'],
    ['anthropic', 'anthropic-messages'],
    ['responses', 'openai-responses'],
  ];
  return folders.flatMap(([folder, format]) =>
    readdirSync(new URL(`${folder}/`, recorded))
      .filter((file) => file.endsWith('.chunks.txt'))
      .map((file) => {
        const lines = readFileSync(new URL(`${folder}/${file}`, recorded), 'utf8').split('\n').filter((line) => line.trim() !== '');
        const text = lines.map((line) => frame(format, line)).join('') + (format === 'openai-chat' ? 'data: [DONE]\n\n' : '');
        return { name: `recorded/${folder}/${file}`, upstreamFormat: format, bytes: Buffer.from(text) };
      }),
  );
}

const streams = [...translatorStreams(), ...stubStreams()];
/** Gemini's stream is checked in both framings: SSE (`?alt=sse`) and the JSON array. */
type ClientView = WireFormat | 'gemini-json-array';
const clientFormats: ClientView[] = ['openai-chat', 'anthropic-messages', 'gemini', 'gemini-json-array', 'openai-responses'];

function contextFor(view: ClientView): BridgeContext {
  const clientFormat: WireFormat = view === 'gemini-json-array' ? 'gemini' : view;
  const messages = [{ role: 'user', content: 'hi' }];
  return {
    requestedModel: 'client-model',
    upstreamModel: 'upstream-model',
    created: 1_735_689_600,
    requestId: 'req-splits-1',
    stream: true,
    streamFraming: view === 'gemini-json-array' ? 'json-array' : 'sse',
    clientBody:
      clientFormat === 'openai-chat'
        ? { model: 'client-model', messages, stream: true, stream_options: { include_usage: true } }
        : clientFormat === 'gemini'
          ? { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }
          : clientFormat === 'openai-responses'
            ? { model: 'client-model', input: 'hi', stream: true }
            : { model: 'client-model', max_tokens: 64, messages, stream: true },
  };
}

/** What the client sees: every byte written, then the error's code and message if the stream failed. */
function clientView(view: ClientView, upstreamFormat: WireFormat, pieces: Buffer[]): string {
  const clientFormat: WireFormat = view === 'gemini-json-array' ? 'gemini' : view;
  const bridge = bridgeFor(clientFormat, upstreamFormat);
  if (bridge === undefined) throw new Error(`no bridge ${clientFormat} ← ${upstreamFormat}`);
  const transformer = bridge.streamTransformer(contextFor(view));
  // Bytes, decoded once at the end: a pass-through forwards pieces that split UTF-8 characters.
  const written: Buffer[] = [];
  const write = (output: string | Buffer): void => void written.push(Buffer.from(output));
  let failure = '';
  try {
    for (const piece of pieces) write(transformer.push(piece));
    write(transformer.flush());
  } catch (error) {
    const { output, cause } = outputBeforeFailure(transformer, error);
    write(output);
    failure = `\n[error] ${isGatewayError(cause) ? `${cause.code}: ${cause.message}` : String(cause)}`;
  }
  return Buffer.concat(written).toString('utf8') + failure;
}

afterAll(() => {
  console.info(`fixture split property test: seed ${seed} (replay with SPLIT_SEED=${seed})`);
});

describe(`random splits of every recorded stream (seed ${seed})`, () => {
  it('covers every translator fixture stream', () => {
    expect(streams.filter((stream) => !stream.name.startsWith('recorded/')).map((stream) => stream.name)).toEqual(
      expect.arrayContaining(['anthropic-to-openai/tool-calls-interleaved.chunks.txt', 'openai-to-anthropic/tool-use-no-input.chunks.txt', 'openai-to-responses/responses-failed.chunks.txt']),
    );
  });

  describe.each(streams)('$name', ({ name, upstreamFormat, bytes }) => {
    it.each(clientFormats)('gives the %s client the same result whole, piece per event, and in random pieces', (clientFormat) => {
      const whole = clientView(clientFormat, upstreamFormat, [bytes]);
      expect(whole.length).toBeGreaterThan(0);
      const perEvent = bytes
        .toString('utf8')
        .split(/(?<=\n\n)/)
        .map((event) => Buffer.from(event));
      expect(clientView(clientFormat, upstreamFormat, perEvent), `${name}, one piece per event`).toBe(whole);
      // A per-stream generator: adding a fixture does not change the splits of the others.
      const random = seededRandom(seed ^ [...name].reduce((hash, character) => Math.imul(hash, 31) + character.charCodeAt(0), 7));
      for (let trial = 0; trial < splitsPerStream; trial++) {
        const pieces = randomPieces(bytes, random);
        expect(clientView(clientFormat, upstreamFormat, pieces), `${name}, trial ${trial}, ${pieces.length} pieces, SPLIT_SEED=${seed}`).toBe(whole);
      }
    });
  });
});
