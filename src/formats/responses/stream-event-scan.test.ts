import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonStringHazards, randomText, recordedDataLines, seededRandom, withMutations } from '../../../test/helpers/translator-testing.js';
import { scanResponsesTextDelta } from './stream-event-scan.js';

/**
 * The scan may refuse any event (JSON.parse then reads it), but a delta it returns must be exactly
 * what JSON.parse reads: the event is a JSON object whose `type` is `response.output_text.delta`
 * and whose `delta` is that string. Checked over the recorded streams, hand-made adversarial events,
 * and generated and mutated ones.
 */
function parsedDelta(data: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { type, delta } = parsed as Record<string, unknown>;
  return type === 'response.output_text.delta' && typeof delta === 'string' ? delta : undefined;
}

function expectSound(data: string): string | undefined {
  const answer = scanResponsesTextDelta(data);
  if (answer !== undefined) expect({ data, delta: parsedDelta(data) }).toEqual({ data, delta: answer });
  return answer;
}

const recorded: string[] = [
  ...['openai-to-responses', 'responses-to-openai'].flatMap((folder) => recordedDataLines(new URL(`../../translate/${folder}/__fixtures__/`, import.meta.url))),
  ...readdirSync(new URL('../../../test/fixtures/recorded/responses/', import.meta.url))
    .filter((file) => file.endsWith('.chunks.txt'))
    .flatMap((file) => readFileSync(new URL(`../../../test/fixtures/recorded/responses/${file}`, import.meta.url), 'utf8').split('\n'))
    .filter((line) => line.trim() !== ''),
];

const event = (fields: Record<string, unknown>): string => JSON.stringify({ type: 'response.output_text.delta', sequence_number: 4, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'x', logprobs: [], ...fields });

const adversarial: string[] = [
  event({ delta: 'say "hi" \\ there' }),
  event({ delta: '\u00e9\u2028\ud83d\ude00 lone \ud800' }),
  event({ delta: '","delta":"not me' }),
  event({ delta: '' }),
  event({ obfuscation: 'aB3', item_id: null }),
  event({ delta: null }),
  event({ delta: 7 }),
  event({ logprobs: [{ token: 'x' }] }),
  event({ sequence_number: -1 }),
  event({ sequence_number: 1.5 }),
  event({ unknown: 1 }),
  event({ response: { id: 'r' } }),
  event({ type: 'response.output_text.done' }),
  event({ type: 'response.output_text.delta.x' }),
  '{"type":"response.output_text.delta","delta":"x","type":"error"}',
  '{"type":"response.output_text.delta","del\\u0074a":"x","delta":"y"}',
  '{"type":"response.output_text.delta","__proto__":"x","delta":"y"}',
  '{"type":"response.output_text.delta", "delta":"x"}',
  '{"type":"response.output_text.delta","delta":"x"} ',
  '{"type":"response.output_text.delta","delta":"x"}}',
  '{"type":"response.output_text.delta","delta":"x",}',
  '{"type":"response.output_text.delta","delta":"x\\q"}',
  '{"type":"response.output_text.delta","delta":"x',
  '{"type":"response.output_text.delta","sequence_number":01,"delta":"x"}',
  '{"type":"response.output_text.delta","sequence_number":1e3,"delta":"x"}',
  '{"type":"response.output_text.delta","delta":"a\nb"}',
  '{"type":"response.output_text.delta"}',
  '{"type":"response.output_text.delta","item_id":"msg_1"}',
  '',
];

const textPieces = [...jsonStringHazards, '"delta":"', '\\u0041'];

describe('scanResponsesTextDelta', () => {
  it('reads the text deltas of the recorded streams as JSON.parse does', () => {
    const deltas = recorded.filter((data) => parsedDelta(data) !== undefined);
    expect(deltas.length).toBeGreaterThan(5);
    for (const data of deltas) expect(scanResponsesTextDelta(data)).toBe(parsedDelta(data));
  });

  it('never reads an event differently from JSON.parse: recorded, adversarial, generated and mutated events', () => {
    const random = seededRandom(56);
    const generated = Array.from({ length: 1500 }, () => {
      const fields: Record<string, unknown> = { delta: randomText(random, textPieces) };
      if (random() < 0.5) fields['obfuscation'] = randomText(random, textPieces);
      if (random() < 0.3) fields['item_id'] = randomText(random, textPieces);
      return event(fields);
    });
    const accepted = withMutations([...recorded, ...adversarial, ...generated], random).filter((data) => expectSound(data) !== undefined);
    expect(accepted.length).toBeGreaterThan(1000);
    for (const data of adversarial.slice(5)) expect(scanResponsesTextDelta(data), data).toBeUndefined();
  });

  it('reads a repeated delta as JSON.parse does: the last one', () => {
    expect(expectSound('{"type":"response.output_text.delta","delta":"first","sequence_number":1,"delta":"second"}')).toBe('second');
    expect(expectSound('{"type":"response.output_text.delta","delta":"first","delta":"a \\"delta\\":\\"b"}')).toBe('a "delta":"b');
  });
});
