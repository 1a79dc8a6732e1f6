import { describe, expect, it, vi } from 'vitest';
import type * as ChunkScan from '../../formats/gemini/stream-chunk-scan.js';
import { expectSameViewWithFastPath, fixtureTexts, recordedEventLists, type StreamingClientFormat } from '../../../test/helpers/bridge-replay.js';

/**
 * A Gemini upstream's text chunks are read without JSON.parse (formats/gemini/stream-chunk-scan.ts).
 * Proof that the client never sees a difference: every bridge that translates a Gemini upstream
 * (chat and Anthropic clients, and Responses clients through chat) replays the recorded streams and
 * adversarial ones, in both Gemini framings, whole and in random pieces, with the scan and with it
 * switched off (every chunk parsed, as before), and the bytes out and the failure must be the same.
 */
const fastPath = vi.hoisted(() => ({ enabled: true }));
vi.mock('../../formats/gemini/stream-chunk-scan.js', async (importOriginal) => {
  const original = await importOriginal<typeof ChunkScan>();
  return { ...original, scanGeminiTextChunk: (data: string) => (fastPath.enabled ? original.scanGeminiTextChunk(data) : undefined) };
});

const sse = (chunks: string[]): string => chunks.map((chunk) => `data: ${chunk}\r\n\r\n`).join('');
const jsonArray = (chunks: string[]): string => `[${chunks.join(',\r\n')}]`;
const recordedChunks: string[][] = recordedEventLists(new URL('../../../test/fixtures/recorded/gemini/', import.meta.url));
const fixtureStreams: string[] = ['openai-to-gemini', 'anthropic-to-gemini'].flatMap((folder) =>
  fixtureTexts(new URL(`../../translate/${folder}/__fixtures__/`, import.meta.url), ['.chunks.txt', '.array.txt']),
);

/** A chunk as Google's servers write it: a space after each colon. */
const text = (value: string, extra = ''): string => `{"candidates": [{"content": {"role": "model","parts": [{"text": ${JSON.stringify(value)}}]}${extra}}],"usageMetadata": {"promptTokenCount": 7,"totalTokenCount": 7,"trafficType": "ON_DEMAND"},"modelVersion": "gemini-test","createTime": "2026-03-10T14:54:45.066123Z","responseId": "fixtureGoogle0001"}`;
const last = `{"candidates": [{"content": {"role": "model","parts": [{"text": "."}]},"finishReason": "STOP"}],"usageMetadata": {"promptTokenCount": 7,"candidatesTokenCount": 5,"totalTokenCount": 12,"thoughtsTokenCount": 3,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 7}]},"modelVersion": "gemini-test","responseId": "fixtureGoogle0001"}`;
const adversarialChunks: string[][] = [
  [text('say "hi" \\ é 😀 \u2028 \ud800'), text(''), text('"text": "not me'), last],
  [text('first'), '{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"candidates":[{"content":{"role":"model"}}]}', '{"candidates":[{"content":{"parts":[{"text":"b"}]}}],"error":{"message":"quota"}}', last],
  [text('first'), '{"candidates":[{"content":{"parts":[{"text":"x"}]}}],', last],
  [text('cut'), text('off')],
  [text('a', ',"finishReason": "MAX_TOKENS"'), text('after the end')],
];
const streams: string[] = [...fixtureStreams, ...[...recordedChunks, ...adversarialChunks].flatMap((chunks) => [sse(chunks), jsonArray(chunks)])];

const clientFormats: StreamingClientFormat[] = ['openai-chat', 'anthropic-messages', 'openai-responses'];

describe('Gemini text chunks read without JSON.parse', () => {
  it.each(clientFormats)('give the %s client the same bytes and failure as JSON.parse', (clientFormat) => {
    const failures = expectSameViewWithFastPath({ clientFormat, upstreamFormat: 'gemini', streams: streams, seed: clientFormat.length * 15_485_863, setFastPath: (enabled) => (fastPath.enabled = enabled) });
    // The adversarial streams do fail (a cut stream, an in-stream error), so failures are compared too.
    expect(failures).toBeGreaterThan(0);
  });
});
