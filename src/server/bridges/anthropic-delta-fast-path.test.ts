import { describe, expect, it, vi } from 'vitest';
import type * as DeltaScan from '../../formats/anthropic/stream-event-scan.js';
import { expectSameViewWithFastPath, fixtureTexts, recordedEventLists, type StreamingClientFormat } from '../../../test/helpers/bridge-replay.js';

/**
 * An Anthropic upstream's content deltas are read without JSON.parse
 * (formats/anthropic/stream-event-scan.ts). Proof that the client never sees a difference: every
 * bridge that translates an Anthropic upstream (chat, Responses and Gemini clients) replays the
 * recorded streams and adversarial ones, whole and in random pieces, with the scan and with it
 * switched off (every event parsed, as before), and the bytes out and the failure must be the same.
 */
const fastPath = vi.hoisted(() => ({ enabled: true }));
vi.mock('../../formats/anthropic/stream-event-scan.js', async (importOriginal) => {
  const original = await importOriginal<typeof DeltaScan>();
  return { ...original, scanAnthropicContentDelta: (data: string) => (fastPath.enabled ? original.scanAnthropicContentDelta(data) : undefined) };
});

/** An SSE stream as Anthropic writes it: each event named, its JSON on one data line. */
const sse = (events: string[]): string => events.map((data) => `event: ${/"type":"([a-z_]+)"/.exec(data)?.[1] ?? 'message'}\ndata: ${data}\n\n`).join('');
const recordedEvents: string[][] = recordedEventLists(new URL('../../../test/fixtures/recorded/anthropic/', import.meta.url));
const fixtureStreams: string[] = ['openai-to-anthropic', 'responses-to-anthropic', 'gemini-to-anthropic'].flatMap((folder) =>
  fixtureTexts(new URL(`../../translate/${folder}/__fixtures__/`, import.meta.url)),
);

const start = '{"type":"message_start","message":{"id":"msg_fixture_fast_0001","type":"message","role":"assistant","model":"claude-test","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":7,"output_tokens":1}}}';
const blockStart = (index: number): string => `{"type":"content_block_start","index":${index},"content_block":{"type":"text","text":""}}`;
const text = (value: string, index = 0): string => JSON.stringify({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: value } });
const stop = (index: number): string => `{"type":"content_block_stop","index":${index}}`;
const end = ['{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}}', '{"type":"message_stop"}'];
const adversarialEvents: string[][] = [
  [start, blockStart(0), text('say "hi" \\ é 😀 \u2028 \ud800'), text(''), text('"},"type":"error'), stop(0), ...end],
  [start, blockStart(0), text('first'), '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"},"type":"error","error":{"message":"hidden"}}', stop(0), ...end],
  [start, blockStart(0), text('first'), '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'],
  [start, blockStart(0), text('first'), '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"cut'],
  [start, blockStart(0), text('cut'), text('off')],
  [start, blockStart(2), text('index two', 2), '{"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"hmm"}}', stop(2), ...end],
];
const streams: string[] = [...fixtureStreams, ...[...recordedEvents, ...adversarialEvents].map(sse)];

const clientFormats: StreamingClientFormat[] = ['openai-chat', 'openai-responses', 'gemini'];

describe('Anthropic content deltas read without JSON.parse', () => {
  it.each(clientFormats)('give the %s client the same bytes and failure as JSON.parse', (clientFormat) => {
    const failures = expectSameViewWithFastPath({ clientFormat, upstreamFormat: 'anthropic-messages', streams: streams, seed: clientFormat.length * 104_729, setFastPath: (enabled) => (fastPath.enabled = enabled) });
    // The adversarial streams do fail (a cut stream, an in-stream error), so failures are compared too.
    expect(failures).toBeGreaterThan(0);
  });
});
