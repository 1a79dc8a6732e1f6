import { describe, expect, it } from 'vitest';
import { expectAdversarialSplit, jsonStringHazards, picker, randomText, recordedDataLines, seededRandom, withMutations } from '../../../test/helpers/translator-testing.js';
import { scanAnthropicContentDelta } from './stream-event-scan.js';

/**
 * The scan may refuse any event (JSON.parse then reads it), but what it returns must be exactly what
 * JSON.parse returns: the same keys, in the same order, with the same values. Checked over the
 * recorded streams, hand-made adversarial events, and generated and mutated ones.
 */
function parsed(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}

function expectSound(data: string): Record<string, unknown> | undefined {
  const answer = scanAnthropicContentDelta(data);
  if (answer !== undefined) {
    expect({ data, answer: parsed(data) }).toEqual({ data, answer });
    expect(JSON.stringify(answer), data).toBe(JSON.stringify(parsed(data)));
  }
  return answer;
}

const recorded: string[] = [
  ...recordedDataLines(new URL('../../../test/fixtures/recorded/anthropic/', import.meta.url)),
  ...['openai-to-anthropic', 'responses-to-anthropic', 'gemini-to-anthropic'].flatMap((folder) => recordedDataLines(new URL(`../../translate/${folder}/__fixtures__/`, import.meta.url))),
];

const delta = (deltaType: string, key: string, value: unknown, index: unknown = 0): string =>
  JSON.stringify({ type: 'content_block_delta', index, delta: { type: deltaType, [key]: value } });

const adversarial: string[] = [
  delta('text_delta', 'text', 'say "hi" \\ there'),
  delta('text_delta', 'text', '\u00e9\u2028\ud83d\ude00 lone \ud800 \u0000'),
  delta('text_delta', 'text', '"},"type":"error'),
  delta('text_delta', 'text', ''),
  delta('thinking_delta', 'thinking', 'let me think', 3),
  delta('input_json_delta', 'partial_json', '{"location": "Par', 1),
  delta('input_json_delta', 'partial_json', '', 123_456_789_012_345),
  // Refused (from here on): each is read by JSON.parse.
  delta('text_delta', 'text', 7),
  delta('text_delta', 'text', null),
  delta('text_delta', 'thinking', 'mismatched key'),
  delta('signature_delta', 'signature', 'c2ln'),
  delta('text_delta', 'text', 'x', -1),
  delta('text_delta', 'text', 'x', 1.5),
  delta('text_delta', 'text', 'x', 1_234_567_890_123_456),
  delta('text_delta', 'text', 'x', '0'),
  '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","text":"b"}}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"},"type":"error"}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"},"index":1}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}} ',
  '{"type":"content_block_delta", "index":0,"delta":{"type":"text_delta","text":"a"}}',
  '{"type":"content_block_delta","index":00,"delta":{"type":"text_delta","text":"a"}}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","te\\u0078t":"a"}}',
  '{"type":"content_block_delt\\u0061","index":0,"delta":{"type":"text_delta","text":"a"}}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\\q"}}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\nb"}}',
  '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"',
  '{"index":0,"type":"content_block_delta","delta":{"type":"text_delta","text":"a"}}',
  '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
  '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
  '',
];

const textPieces = [...jsonStringHazards, '"text":"', '\\u0041', '"}}'];

function generated(random: () => number): string {
  const pick = picker(random);
  const [deltaType, key] = pick([
    ['text_delta', 'text'],
    ['thinking_delta', 'thinking'],
    ['input_json_delta', 'partial_json'],
    ['text_delta', 'partial_json'],
  ] as const);
  const index = random() < 0.9 ? Math.floor(random() * 20) : pick([-1, 0.5, '1', null]);
  return delta(deltaType, key, random() < 0.95 ? randomText(random, textPieces) : pick([7, null, true]), index);
}

describe('scanAnthropicContentDelta', () => {
  it('reads the content deltas of the recorded streams as JSON.parse does', () => {
    const deltas = recorded.filter((data) => data.includes('"content_block_delta"'));
    expect(deltas.length).toBeGreaterThan(10);
    for (const data of deltas) expect(scanAnthropicContentDelta(data), data).toEqual(parsed(data));
  });

  it('never reads an event differently from JSON.parse: recorded, adversarial, generated and mutated events', () => {
    const random = seededRandom(89);
    const events = Array.from({ length: 1500 }, () => generated(random));
    const accepted = withMutations([...recorded, ...adversarial, ...events], random).filter((data) => expectSound(data) !== undefined);
    expect(accepted.length).toBeGreaterThan(1000);
    expectAdversarialSplit(scanAnthropicContentDelta, adversarial, delta('text_delta', 'text', 7));
  });

  it('stays linear on megabyte events, hostile ones included', () => {
    const long = 'a'.repeat(1 << 20);
    const started = process.hrtime.bigint();
    expect(scanAnthropicContentDelta(delta('text_delta', 'text', long))).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: long } });
    expect(scanAnthropicContentDelta(delta('text_delta', 'text', long).replace(/"}}$/, '\\"}}'))).toBeUndefined();
    expect(scanAnthropicContentDelta(`${delta('text_delta', 'text', '\\'.repeat(1 << 19))}x`)).toBeUndefined();
    // A backtracking pattern would take minutes on these; a linear one takes milliseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(5);
  });
});
