import { describe, expect, it } from 'vitest';
import { mutatedJson, randomText, recordedDataLines, seededRandom, withMutations } from '../../../test/helpers/translator-testing.js';
import { createOpenAIContentChunkReader, decodeStringBody, scanOpenAIContentChunk, type OpenAIContentChunk } from './stream-chunk-scan.js';

/**
 * The scan may refuse any chunk (JSON.parse then reads it), but what it accepts must be exactly what
 * JSON.parse reads: a plain content chunk with the same id, model and content. `plainReading` is
 * that rule written over JSON.parse's result; every chunk below (the recorded streams, hand-made
 * adversarial ones, and generated and mutated ones) is checked against it, by the scan and by a
 * reader that has a template from an earlier chunk.
 */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ignoredTopLevel = new Set(['object', 'created', 'system_fingerprint', 'service_tier', 'obfuscation']);

/** What a translator reads from a chunk when it is a plain content chunk by JSON.parse; undefined when it is not one. */
function plainReading(data: string): OpenAIContentChunk | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  for (const [key, value] of Object.entries(parsed)) {
    if (key === 'id' || key === 'model') {
      if (typeof value !== 'string') return undefined;
    } else if (key === 'usage') {
      if (value !== null) return undefined;
    } else if (ignoredTopLevel.has(key)) {
      if (typeof value === 'object' && value !== null) return undefined;
    } else if (key !== 'choices') return undefined;
  }
  const choices = parsed['choices'];
  if (!Array.isArray(choices) || choices.length !== 1 || !isRecord(choices[0])) return undefined;
  const choice = choices[0];
  if (Object.keys(choice).some((key) => !['index', 'delta', 'logprobs', 'finish_reason'].includes(key))) return undefined;
  const finishReason = choice['finish_reason'] ?? null;
  if (choice['index'] !== 0 || (choice['logprobs'] ?? null) !== null || (finishReason !== null && typeof finishReason !== 'string')) return undefined;
  const delta = choice['delta'];
  if (!isRecord(delta) || Object.keys(delta).some((key) => !['content', 'role', 'refusal'].includes(key))) return undefined;
  if (typeof delta['content'] !== 'string' || (delta['refusal'] ?? null) !== null || !['string', 'undefined'].includes(typeof delta['role'])) return undefined;
  return { id: parsed['id'] as string | undefined, model: parsed['model'] as string | undefined, content: delta['content'], finishReason: typeof finishReason === 'string' ? finishReason : undefined };
}

/** The scan's answer without the positions it also returns. */
function scanned(data: string): OpenAIContentChunk | undefined {
  const result = scanOpenAIContentChunk(data);
  return result === undefined ? undefined : { id: result.id, model: result.model, content: result.content, finishReason: result.finishReason };
}

function expectSound(data: string, answer: OpenAIContentChunk | undefined): void {
  if (answer === undefined) return;
  expect({ data, reading: plainReading(data) }).toEqual({ data, reading: answer });
}

const recordedChunks: string[] = ['anthropic-to-openai', 'gemini-to-openai', 'responses-to-openai'].flatMap((folder) =>
  recordedDataLines(new URL(`../../translate/${folder}/__fixtures__/`, import.meta.url)),
);

const chunkOf = (content: unknown, extra: Record<string, unknown> = {}, deltaExtra: Record<string, unknown> = {}): string =>
  JSON.stringify({ id: 'chatcmpl-x1', object: 'chat.completion.chunk', created: 1_735_689_600, model: 'gpt-up', choices: [{ index: 0, delta: { content, ...deltaExtra }, logprobs: null, finish_reason: null }], ...extra });

/** Chunks a careless scan would misread: each either refused or read exactly as JSON.parse reads it. */
const adversarialChunks: string[] = [
  chunkOf('say "hi" \\ there'),
  chunkOf('\u00e9\u2028\ud83d\ude00 lone \ud800'),
  chunkOf('{"content":"not me"}'),
  chunkOf('}]},"finish_reason":"stop"'),
  chunkOf('line\nbreak\ttab\u0000'),
  chunkOf(null),
  chunkOf(''),
  chunkOf('x', { usage: { prompt_tokens: 1, completion_tokens: 2 } }),
  chunkOf('x', { usage: null, obfuscation: 'aB3' }),
  chunkOf('x', { error: { message: 'boom' } }),
  chunkOf('x', { unknown: 1 }),
  chunkOf('x', {}, { tool_calls: [{ index: 0, function: { arguments: '{}' } }] }),
  chunkOf('x', {}, { reasoning_content: 'thinking' }),
  chunkOf('x', {}, { refusal: 'no' }),
  chunkOf('x', {}, { role: 'assistant', refusal: null }),
  // Key order changed, and the id and model after the choices.
  '{"choices":[{"finish_reason":null,"delta":{"content":"moved"},"index":0}],"model":"m2","id":"c2"}',
  // A finish_reason with the last text: read when it is a valid string, once.
  chunkOf('last').replace('"finish_reason":null', '"finish_reason":"stop"'),
  chunkOf('last').replace('"finish_reason":null', '"finish_reason":"len\\"gth\\u0041"'),
  chunkOf('last').replace('"finish_reason":null', '"finish_reason":"bad \\q"'),
  chunkOf('last').replace('"finish_reason":null', '"finish_reason":1'),
  chunkOf('last').replace('"finish_reason":null', '"finish_reason":"stop","finish_reason":null'),
  chunkOf('last').replace('"finish_reason":null', '"finish_reason":"stop'),
  '{"choices":[{"finish_reason":"length","delta":{"content":"moved"},"index":0}],"model":"m2","id":"c2"}',
  '{"id":"a","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
  // Duplicate keys: JSON.parse keeps the last.
  '{"id":"a","model":"first","model":"second","choices":[{"index":0,"delta":{"content":"x"}}]}',
  '{"id":"a","choices":[{"index":0,"delta":{"content":"first","content":"second"}}]}',
  // Escaped keys and quotes, whitespace, other numbers and literals.
  '{"id":"a","mod\\u0065l":"m","choices":[{"index":0,"delta":{"content":"x"}}]}',
  '{"id":"a","choices":[{"index":0,"delta":{"cont\\u0065nt":"x"}}]}',
  '{"id":"a\\"b","model":"m\\\\","choices":[{"index":0,"delta":{"content":"x\\\\"}}]}',
  '{"id":"a", "choices":[{"index":0,"delta":{"content":"x"}}]}',
  ' {"id":"a","choices":[{"index":0,"delta":{"content":"x"}}]}',
  '{"id":"a","choices":[{"index":0,"delta":{"content":"x"}}]} ',
  '{"id":"a","created":01,"choices":[{"index":0,"delta":{"content":"x"}}]}',
  '{"id":"a","created":-1,"choices":[{"index":0,"delta":{"content":"x"}}]}',
  '{"id":"a","created":1e3,"choices":[{"index":0,"delta":{"content":"x"}}]}',
  '{"id":"a","choices":[{"index":0.0,"delta":{"content":"x"}}]}',
  '{"id":"a","choices":[{"index":1,"delta":{"content":"x"}}]}',
  '{"id":"a","choices":[{"index":0,"delta":{"content":"x"}},{"index":0,"delta":{"content":"y"}}]}',
  '{"id":null,"choices":[{"index":0,"delta":{"content":"x"}}]}',
  '{"id":"a","choices":[{"delta":{"content":"x"}}]}',
  // Broken JSON and bad escapes.
  '{"id":"a","choices":[{"index":0,"delta":{"content":"x\\q"}}]}',
  '{"id":"a","choices":[{"index":0,"delta":{"content":"\\ud8"}}]}',
  '{"id":"a","choices":[{"index":0,"delta":{"content":"x}}]}',
  '{"id":"a","choices":[{"index":0,"delta":{"content":"x"}}]',
  '{"id":"a","choices":[{"index":0,"delta":{"content":"x"}}]}}',
  '{"id":"a","choices":[{"index":0,"delta":{"content":"x"},}]}',
  '{"id":"a","choices":[{"index":0,"delta":{"content":"x"}}],}',
  '{"id":"a","choices":[{"index":0,"delta":{"content":"x"}}]}x',
  '{"id":"a,"choices":[{"index":0,"delta":{"content":"x"}}]}',
  '[DONE]',
  '',
];

/** Random content: JSON's structural and escaped characters, controls, surrogates, non-Latin text. */
const textPieces = ['a', ' ', '"', '\\', '/', '{', '}', '[', ']', ',', ':', '\n', '\t', '\u0000', '\u001f', 'é', '😀', '\ud800', '\u2028', 'null', '"content":"', '\\u0041'];

/** A plain content chunk with random content, key order and optional fields, as an upstream may write it. */
function randomChunk(random: () => number): string {
  const pick = (): boolean => random() < 0.5;
  const delta: Record<string, unknown> = { content: randomText(random, textPieces) };
  if (pick()) delta['role'] = 'assistant';
  if (pick()) delta['refusal'] = null;
  const choice: Record<string, unknown> = { index: 0, delta };
  if (pick()) choice['logprobs'] = null;
  if (pick()) choice['finish_reason'] = pick() ? null : randomText(random, textPieces);
  const chunk: Record<string, unknown> = { id: `chatcmpl-${randomText(random, textPieces)}`, object: 'chat.completion.chunk', created: Math.floor(random() * 2e9), model: randomText(random, textPieces) };
  if (pick()) chunk['system_fingerprint'] = pick() ? null : 'fp_1';
  if (pick()) chunk['usage'] = null;
  chunk['choices'] = [shuffled(choice, random)];
  return JSON.stringify(shuffled(chunk, random));
}

function shuffled(record: Record<string, unknown>, random: () => number): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).sort(() => random() - 0.5));
}

describe('scanOpenAIContentChunk', () => {
  it('reads the plain content chunks of the recorded streams and of the benchmark stub', () => {
    const bench = JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench-model', choices: [{ index: 0, delta: { content: 'token ' }, finish_reason: null }] });
    expect(scanned(bench)).toEqual({ id: 'chatcmpl-bench', model: 'bench-model', content: 'token ' });
    const plain = recordedChunks.filter((data) => plainReading(data) !== undefined);
    expect(plain.length).toBeGreaterThan(20);
    for (const data of plain) expect(scanned(data)).toEqual(plainReading(data));
  });

  it('reads escaped content, unicode, braces in strings and moved keys as JSON.parse does', () => {
    const plain = [
      chunkOf('say "hi" \\ there'),
      chunkOf('\u00e9\u2028\ud83d\ude00 lone \ud800'),
      chunkOf('{"content":"not me"}'),
      chunkOf('}]},"finish_reason":"stop"'),
      '{"choices":[{"finish_reason":null,"delta":{"content":"moved"},"index":0}],"model":"m2","id":"c2"}',
    ];
    for (const data of plain) expect(scanned(data)).toEqual(plainReading(data));
    expect(scanned(plain[4] ?? '')).toEqual({ id: 'c2', model: 'm2', content: 'moved' });
    const finished = '{"choices":[{"finish_reason":"length","delta":{"content":"moved"},"index":0}],"model":"m2","id":"c2"}';
    expect(scanned(finished)).toEqual({ id: 'c2', model: 'm2', content: 'moved', finishReason: 'length' });
    expect(scanned(finished)).toEqual(plainReading(finished));
  });

  it('never reads a chunk differently from JSON.parse: recorded, adversarial, generated and mutated chunks', () => {
    const random = seededRandom(12);
    const generated = Array.from({ length: 1500 }, () => randomChunk(random));
    const edited = withMutations([...generated, ...recordedChunks, ...adversarialChunks], random);
    let accepted = 0;
    for (const data of [...recordedChunks, ...adversarialChunks, ...edited]) {
      const answer = scanned(data);
      if (answer !== undefined) accepted++;
      expectSound(data, answer);
    }
    expect(accepted).toBeGreaterThan(1500);
  });

  it('refuses usage, errors, tool calls, reasoning, a refusal and unknown keys', () => {
    const notPlain = [
      chunkOf('x', { usage: { prompt_tokens: 1, completion_tokens: 2 } }),
      chunkOf('x', { error: { message: 'boom' } }),
      chunkOf('x', { unknown: 1 }),
      chunkOf('x', {}, { tool_calls: [{ index: 0, function: { arguments: '{}' } }] }),
      chunkOf('x', {}, { reasoning_content: 'thinking' }),
      chunkOf('x', {}, { refusal: 'no' }),
      chunkOf(null),
    ];
    for (const data of notPlain) expect(scanned(data)).toBeUndefined();
  });
});

describe('createOpenAIContentChunkReader', () => {
  it('reads a chunk that matches the template around a new content only when that content is one valid JSON string', () => {
    const reader = createOpenAIContentChunkReader();
    expect(reader.read(chunkOf('first'))).toEqual({ id: 'chatcmpl-x1', model: 'gpt-up', content: 'first' });
    const [before, after] = chunkOf('@@').split('@@') as [string, string];
    // Bodies that would change the JSON around them if pasted in unchecked.
    for (const body of ['plain', 'with \\"quote\\"', 'end\\\\', 'a","refusal":"x', 'a\\', 'bad \\q escape', 'raw \u0001 control', 'x"}}],"usage":{"prompt_tokens":1},"y":"', '\\ud800', '']) {
      const data = before + body + after;
      const answer = reader.read(data);
      expectSound(data, answer);
      if (plainReading(data) !== undefined) expect(answer).toEqual(plainReading(data));
    }
    // The template's two ends overlapping on the content's quote: no content string at all.
    expect(reader.read(before + after.slice(1))).toBeUndefined();
  });

  it('never reads a chunk differently from JSON.parse over generated streams of related chunks', () => {
    const random = seededRandom(34);
    for (let stream = 0; stream < 200; stream++) {
      const reader = createOpenAIContentChunkReader();
      const [before, after] = randomChunk(random).replace(/"content":"(?:[^"\\]|\\.)*"/, '"content":"@@"').split('@@') as [string, string];
      for (let index = 0; index < 12; index++) {
        const body = JSON.stringify(randomText(random, textPieces)).slice(1, -1);
        const roll = random();
        const data = roll < 0.6 ? before + body + after : roll < 0.8 ? before + randomText(random, textPieces) + after : mutatedJson(before + body + after, random);
        expectSound(data, reader.read(data));
      }
    }
  });
});

describe('decodeStringBody', () => {
  it('decodes as JSON.parse does, and refuses what is not one JSON string', () => {
    expect(decodeStringBody('a\\nb\\u00e9\\"')).toBe('a\nbé"');
    expect(decodeStringBody('plain')).toBe('plain');
    for (const body of ['a"b', 'a\\', 'a\\x', '\u0000', 'a" , "b']) expect(decodeStringBody(body)).toBeUndefined();
  });
});
