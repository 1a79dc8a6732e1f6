import { describe, expect, it, vi } from 'vitest';
import type * as EventScan from '../../formats/responses/stream-event-scan.js';
import { expectSameViewWithFastPath, fixtureTexts, recordedEventLists, type StreamingClientFormat } from '../../../test/helpers/bridge-replay.js';

/**
 * A Responses upstream's text deltas are read without JSON.parse (formats/responses/stream-event-scan.ts).
 * Proof that the client never sees a difference: every bridge that reads a Responses upstream
 * through the chat translator (chat, and Anthropic and Gemini clients behind the chat pivot)
 * replays the recorded streams and adversarial ones, whole and in random pieces, with the scan and
 * with it switched off (every event parsed, as before), and the bytes out and the failure must be
 * the same.
 */
const fastPath = vi.hoisted(() => ({ enabled: true }));
vi.mock('../../formats/responses/stream-event-scan.js', async (importOriginal) => {
  const original = await importOriginal<typeof EventScan>();
  return { ...original, scanResponsesTextDelta: (data: string) => (fastPath.enabled ? original.scanResponsesTextDelta(data) : undefined) };
});

const frame = (data: string): string => `event: ${(JSON.parse(data) as { type: string }).type}\ndata: ${data}\n\n`;
const recorded: string[] = [
  ...fixtureTexts(new URL('../../translate/openai-to-responses/__fixtures__/', import.meta.url)),
  ...recordedEventLists(new URL('../../../test/fixtures/recorded/responses/', import.meta.url)).map((events) => events.map(frame).join('')),
];

const delta = (fields: Record<string, unknown>): string => frame(JSON.stringify({ type: 'response.output_text.delta', sequence_number: 3, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'x', logprobs: [], ...fields }));
const created = frame(JSON.stringify({ type: 'response.created', sequence_number: 0, response: { id: 'resp_1', model: 'up', created_at: 1_735_689_600, status: 'in_progress' } }));
const completed = frame(JSON.stringify({ type: 'response.completed', sequence_number: 9, response: { id: 'resp_1', status: 'completed', usage: { input_tokens: 3, output_tokens: 4, total_tokens: 7 } } }));
const adversarial: string[] = [
  created + delta({ delta: 'say "hi" \\ é 😀 \u2028 \ud800' }) + delta({ delta: '' }) + delta({ obfuscation: 'aB3' }) + completed,
  created + delta({ delta: 'first' }) + 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"a","type":"response.failed","response":{"error":{"message":"dup"}}}\n\n' + completed,
  created + delta({ delta: 'x' }) + 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"x",\n\n' + completed,
  created + delta({ delta: 'cut' }),
];

const clientFormats: StreamingClientFormat[] = ['openai-chat', 'anthropic-messages', 'gemini'];

describe('Responses text deltas read without JSON.parse', () => {
  it.each(clientFormats)('give the %s client the same bytes and failure as JSON.parse', (clientFormat) => {
    const failures = expectSameViewWithFastPath({ clientFormat, upstreamFormat: 'openai-responses', streams: [...recorded, ...adversarial], seed: clientFormat.length * 104_729, setFastPath: (enabled) => (fastPath.enabled = enabled) });
    // The adversarial streams do fail (a cut stream, a failure hidden in a delta), so failures are compared too.
    expect(failures).toBeGreaterThan(0);
  });
});
