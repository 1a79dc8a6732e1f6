import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../errors/gateway-error.js';
import { parseSseText } from '../../../test/helpers/http.js';
import { anthropicToOpenAIBridge } from './anthropic-to-openai.js';
import { openaiToAnthropicBridge } from './openai-to-anthropic.js';
import { createPassThroughBridge } from './pass-through.js';
import { outputBeforeFailure } from './sse-transformer.js';
import type { BridgeContext, FormatBridge } from './types.js';

/**
 * A stream that fails part-way must still give the client everything the upstream sent before the
 * failure, in order, and only then the error. The upstream's error event often arrives in the same
 * TCP piece as the text before it (a recorded stream replayed in one write shows it), so the whole
 * fixture goes in as one piece here.
 */
const context: BridgeContext = {
  requestedModel: 'sonnet',
  upstreamModel: 'upstream-model',
  created: 1_735_689_600,
  requestId: 'req-failure-1',
  stream: true,
  streamFraming: 'sse',
  clientBody: { model: 'sonnet', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true },
};

function fixture(folder: string, name: string): Buffer {
  return readFileSync(new URL(`../../translate/${folder}/__fixtures__/${name}`, import.meta.url));
}

/** Feeds the pieces and returns what the client sees before the error, and the error itself. */
function relay(bridge: FormatBridge, pieces: Buffer[], brokenAfter = false, streamContext = context): { output: string; error: unknown } {
  const transformer = bridge.streamTransformer(streamContext);
  let output = '';
  try {
    for (const piece of pieces) output += transformer.push(piece).toString();
    if (brokenAfter) throw new Error('socket reset by the upstream');
    output += transformer.flush().toString();
    return { output, error: undefined };
  } catch (error) {
    const salvaged = outputBeforeFailure(transformer, error);
    return { output: output + salvaged.output.toString(), error: salvaged.cause };
  }
}

describe('a stream that fails part-way', () => {
  it('gives an OpenAI client of an Anthropic stream the role chunk and the text before the upstream error event', () => {
    const { output, error } = relay(openaiToAnthropicBridge, [fixture('openai-to-anthropic', 'error.chunks.txt')]);
    const chunks = parseSseText(output).map((event) => JSON.parse(event.data) as { choices: { delta: unknown }[] });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta)).toEqual([{ role: 'assistant', content: '' }, { content: 'Once upon a time' }]);
    expect(isGatewayError(error) && error.code).toBe('GW_UPSTREAM_STREAM_FAILED');
    expect(isGatewayError(error) && error.message).toBe('Overloaded');
  });

  it('gives an Anthropic client of an OpenAI stream message_start and the text before the upstream error chunk', () => {
    const { output, error } = relay(anthropicToOpenAIBridge, [fixture('anthropic-to-openai', 'error.chunks.txt')]);
    const events = parseSseText(output);
    expect(events.map((event) => event.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta']);
    expect(events.slice(2).map((event) => (JSON.parse(event.data) as { delta: { text: string } }).delta.text).join('')).toBe('Let me think about');
    expect(isGatewayError(error) && error.message).toBe('The server had an error while processing your request. Sorry about that!');
  });

  it('gives an Anthropic client the held tool calls and text when the upstream connection breaks behind a live tool call', () => {
    const whole = fixture('anthropic-to-openai', 'tool-calls-interleaved.chunks.txt').toString('utf8');
    const cut = Buffer.from(whole.slice(0, whole.indexOf('"finish_reason":"tool_calls"')).replace(/data: [^\n]*$/, ''));
    const { output, error } = relay(anthropicToOpenAIBridge, [cut], true);
    expect(error).toBeInstanceOf(Error);
    const events = parseSseText(output).map((event) => JSON.parse(event.data) as { type: string; content_block?: { id?: string } });
    expect(events.filter((event) => event.type === 'content_block_start').map((event) => event.content_block?.id ?? 'text')).toEqual([
      'text',
      'call_InterleavedParis01',
      'call_InterleavedTokyo02',
      'call_InterleavedClock03',
    ]);
    expect(events.map((event) => event.type)).not.toContain('message_stop');
  });

  it('gives a pass-through client the upstream bytes as they came (nothing held); one that did not ask for usage, without the "usage":null asking added', () => {
    const bridge = createPassThroughBridge('openai-chat');
    const bytes = fixture('anthropic-to-openai', 'error.chunks.txt');
    const asked = { ...context, clientBody: { ...context.clientBody, stream_options: { include_usage: true } } };
    const { output, error } = relay(bridge, [bytes], true, asked);
    expect(output).toBe(bytes.toString('utf8'));
    expect(error).toBeInstanceOf(Error);
    const unasked = relay(bridge, [bytes], true);
    expect(unasked.output).toBe(bytes.toString('utf8').replaceAll(',"usage":null}\n\n', '}\n\n'));
    expect(unasked.error).toBeInstanceOf(Error);
  });
});
