import { describe, expect, it } from 'vitest';
import { expectAdversarialSplit, jsonStringHazards, picker, randomText, recordedDataLines, seededRandom, withMutations } from '../../../test/helpers/translator-testing.js';
import { scanGeminiTextChunk } from './stream-chunk-scan.js';
import { parseGeminiChunk, type GeminiAnswerChunk } from './upstream-answer.js';

/**
 * The scan may refuse any chunk (JSON.parse and readGeminiAnswer then read it), but what it returns
 * must be exactly what that pair returns. Checked over the recorded streams, hand-made adversarial
 * chunks, and generated and mutated ones, written compactly and as Google's servers write them.
 */
function parsed(data: string): GeminiAnswerChunk | undefined {
  try {
    return parseGeminiChunk(data);
  } catch {
    return undefined;
  }
}

function expectSound(data: string): GeminiAnswerChunk | undefined {
  const answer = scanGeminiTextChunk(data);
  if (answer !== undefined) expect({ data, answer: parsed(data) }).toEqual({ data, answer });
  return answer;
}

/** JSON as Google's servers write it: a space after each colon, none after a comma. */
function googleStyle(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(googleStyle).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([key, member]) => `${JSON.stringify(key)}: ${googleStyle(member)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const recorded: string[] = [
  ...recordedDataLines(new URL('../../../test/fixtures/recorded/gemini/', import.meta.url)),
  ...['openai-to-gemini', 'anthropic-to-gemini'].flatMap((folder) => recordedDataLines(new URL(`../../translate/${folder}/__fixtures__/`, import.meta.url))),
];

/** The chunk of a real Vertex stream, shape for shape (role before parts, trafficType, createTime). */
const vertexChunk = {
  candidates: [{ content: { role: 'model', parts: [{ text: 'Hello!' }] } }],
  usageMetadata: { trafficType: 'ON_DEMAND' },
  modelVersion: 'gemini-test-lite',
  createTime: '2026-03-10T14:54:45.066123Z',
  responseId: 'fixtureVertex0001',
};
const lastVertexChunk = {
  candidates: [{ content: { role: 'model', parts: [{ text: 'done' }] }, finishReason: 'STOP' }],
  usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 9, totalTokenCount: 10, thoughtsTokenCount: 4, cachedContentTokenCount: 2, trafficType: 'ON_DEMAND', promptTokensDetails: [{ modality: 'TEXT', tokenCount: 1 }], candidatesTokensDetails: [] },
  modelVersion: 'gemini-test-lite',
  responseId: 'fixtureVertex0001',
};
const chunk = (text: unknown, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ candidates: [{ content: { parts: [{ text }], role: 'model' }, index: 0 }], usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 }, modelVersion: 'gemini-test', responseId: 'r1', ...extra });

const adversarial: string[] = [
  chunk('say "hi" \\ there'),
  chunk('\u00e9\u2028\ud83d\ude00 lone \ud800'),
  chunk('","text":"not me'),
  chunk('"modelVersion": "spoofed"'),
  chunk(''),
  googleStyle(vertexChunk),
  googleStyle(lastVertexChunk),
  JSON.stringify(lastVertexChunk),
  '{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5,"promptTokenCount":7}}',
  // Refused (from here on): each is read by JSON.parse.
  chunk(7),
  chunk(null),
  chunk('x', { error: { message: 'quota' } }),
  chunk('x', { promptFeedback: { blockReason: 'SAFETY' } }),
  chunk('x', { usageMetadata: { promptTokenCount: -1 } }),
  chunk('x', { usageMetadata: { promptTokenCount: 1.5 } }),
  chunk('x', { usageMetadata: null }),
  chunk('x', { modelVersion: 7 }),
  JSON.stringify({ candidates: [{ content: { parts: [{ text: 'x', thought: true }] } }] }),
  JSON.stringify({ candidates: [{ content: { parts: [{ text: 'x', thoughtSignature: 'c2ln' }] } }] }),
  JSON.stringify({ candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: {} } }] } }] }),
  JSON.stringify({ candidates: [{ content: { parts: [{ text: 'a' }, { text: 'b' }] } }] }),
  JSON.stringify({ candidates: [{ content: { parts: [{ text: 'a' }] } }, { content: { parts: [{ text: 'b' }] } }] }),
  JSON.stringify({ candidates: [{ content: { parts: [{ text: 'a' }] }, safetyRatings: [] }] }),
  JSON.stringify({ candidates: [] }),
  '{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"candidates":[{"content":{"role":"model"}}]}',
  '{"candidates":[{"content":{"parts":[{"text":"a"}]},"content":{"role":"model"}}]}',
  '{"candidates":[{"content":{"parts":[{"text":"a"}],"parts":[]}}]}',
  '{"candidates":[{"content":{"parts":[{"text":"a","text":"b"}]}}]}',
  '{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":5},"usageMetadata":{}}',
  '{"candidates":[{"content":{"parts":[{"te\\u0078t":"a"}]}}]}',
  '{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"__proto__":"x"}',
  '{"candidates":[{"content":{"parts":[{"text":"a"}]}}] }',
  '{"candidates":[{"content":{"parts":[{"text":"a"}]}}],}',
  '{"candidates":[{"content":{"parts":[{"text":"a"}]}}]}}',
  '{"candidates":[{"content":{"parts":[{"text":"a\\q"}]}}]}',
  '{"candidates":[{"content":{"parts":[{"text":"a\nb"}]}}]}',
  '{"candidates":[{"content":{"parts":[{"text":"a"}]},"index":01}]}',
  '{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":1e3}}',
  '{"candidates":[{"content":{"parts":[{"text":"a"}]}}],  "modelVersion":"m"}',
  '{"candidates":[{"content":{"parts":[{"text":"a"',
  '{"usageMetadata":{"promptTokenCount":5}}',
  '',
];

const textPieces = [...jsonStringHazards, '"text":"', '"text": "', '\\u0041'];

function generated(random: () => number): string {
  const pick = picker(random);
  const content: Record<string, unknown> = random() < 0.5 ? { role: 'model', parts: [{ text: randomText(random, textPieces) }] } : { parts: [{ text: randomText(random, textPieces) }], role: 'model' };
  const candidate: Record<string, unknown> = { content };
  if (random() < 0.5) candidate['index'] = 0;
  if (random() < 0.2) candidate['finishReason'] = pick(['STOP', 'MAX_TOKENS', 'SAFETY', randomText(random, textPieces)]);
  const body: Record<string, unknown> = { candidates: [candidate] };
  if (random() < 0.7) {
    const usage: Record<string, unknown> = {};
    for (const key of ['promptTokenCount', 'candidatesTokenCount', 'totalTokenCount', 'thoughtsTokenCount', 'cachedContentTokenCount']) {
      if (random() < 0.5) usage[key] = Math.floor(random() * 100_000);
    }
    if (random() < 0.3) usage['promptTokensDetails'] = [{ modality: 'TEXT', tokenCount: Math.floor(random() * 50) }];
    body['usageMetadata'] = usage;
  }
  if (random() < 0.8) body['modelVersion'] = randomText(random, textPieces);
  if (random() < 0.8) body['responseId'] = randomText(random, textPieces);
  // Mostly in Google's order (the scan's); now and then in a random one (the scan refuses it).
  const ordered = random() < 0.8 ? body : Object.fromEntries(Object.entries(body).sort(() => random() - 0.5));
  return random() < 0.5 ? JSON.stringify(ordered) : googleStyle(ordered);
}

describe('scanGeminiTextChunk', () => {
  it('reads the text chunks of the recorded streams and a Vertex-shaped stream as JSON.parse does', () => {
    const texts = [...recorded, googleStyle(vertexChunk), googleStyle(lastVertexChunk)].filter((data) => /"text":/.test(data) && !/"thought/.test(data));
    expect(texts.length).toBeGreaterThan(5);
    for (const data of texts) expect(scanGeminiTextChunk(data), data).toEqual(parsed(data));
    expect(scanGeminiTextChunk(googleStyle(lastVertexChunk))?.usage).toEqual({ promptTokens: 1, outputTokens: 13, thoughtTokens: 4, cachedTokens: 2 });
  });

  it('never reads a chunk differently from JSON.parse: recorded, adversarial, generated and mutated chunks', () => {
    const random = seededRandom(61);
    const chunks = Array.from({ length: 1500 }, () => generated(random));
    const accepted = withMutations([...recorded, ...adversarial, ...chunks], random).filter((data) => expectSound(data) !== undefined);
    expect(accepted.length).toBeGreaterThan(1000);
    expectAdversarialSplit(scanGeminiTextChunk, adversarial, chunk(7));
  });

  it('stays linear on megabyte chunks, hostile ones included', () => {
    const long = 'a'.repeat(1 << 20);
    const started = process.hrtime.bigint();
    expect(scanGeminiTextChunk(chunk(long))?.parts).toEqual([{ kind: 'text', text: long }]);
    expect(scanGeminiTextChunk(chunk(long).replace(/"}]/, '\\"}]'))).toBeUndefined();
    const head = '{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{';
    expect(scanGeminiTextChunk(`${head}${'"promptTokenCount":1,'.repeat(100_000)}"promptTokenCount":2}}`)?.usage?.promptTokens).toBe(2);
    expect(scanGeminiTextChunk(`${head}${'"promptTokenCount":1,'.repeat(100_000)}"promptTokenCount":2}`)).toBeUndefined();
    expect(scanGeminiTextChunk(`${head}${'"promptTokensDetails":[{"tokenCount":1}],'.repeat(50_000)}"x":1}}`)).toBeUndefined();
    // A backtracking pattern would take minutes on these; a linear one takes milliseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(5);
  });
});
