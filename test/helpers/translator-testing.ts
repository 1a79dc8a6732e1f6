import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';

/** Runs `action` and returns the GatewayError it throws; fails the test if it throws nothing or something else. */
export function thrown(action: () => unknown): GatewayError {
  try {
    action();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

/**
 * Splits a stream into pieces of repeating odd sizes, so events, lines, JSON and (for bytes)
 * UTF-8 characters break anywhere, as TCP may deliver them.
 */
export function oddPieces<T extends string | Buffer>(whole: T, sizes: number[]): T[] {
  const pieces: T[] = [];
  for (let offset = 0, turn = 0; offset < whole.length; turn++) {
    const size = sizes[turn % sizes.length] ?? 1;
    pieces.push((typeof whole === 'string' ? whole.slice(offset, offset + size) : whole.subarray(offset, offset + size)) as T);
    offset += size;
  }
  return pieces;
}

/** A deterministic PRNG (mulberry32): the same seed gives the same sequence in [0, 1), so a failing split reproduces. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The seed of a randomized test: `SPLIT_SEED` from the environment to replay a failure, else a
 * fresh one. The caller prints it, so every run can be reproduced.
 */
export function splitSeed(): number {
  const fromEnvironment = process.env['SPLIT_SEED'];
  if (fromEnvironment !== undefined && /^\d+$/.test(fromEnvironment)) return Number(fromEnvironment) >>> 0;
  return Math.floor(Math.random() * 4_294_967_296);
}

/**
 * Cuts `whole` at random places: each trial picks a cut density (from every byte to a few cuts per
 * stream), so pieces range from single bytes (splitting UTF-8 characters, `\r\n` and JSON) to
 * several whole events.
 */
export function randomPieces(whole: Buffer, random: () => number): Buffer[] {
  const densities = [1, 0.5, 0.1, 0.02, 0.003];
  const density = densities[Math.floor(random() * densities.length)] ?? 0.1;
  const pieces: Buffer[] = [];
  let start = 0;
  for (let offset = 1; offset < whole.length; offset++) {
    if (random() < density) {
      pieces.push(whole.subarray(start, offset));
      start = offset;
    }
  }
  pieces.push(whole.subarray(start));
  return pieces;
}

/** A short text of `pieces` picked at random (0–7 of them): the raw material of generated JSON strings. */
export function randomText(random: () => number, pieces: readonly string[]): string {
  let text = '';
  for (let index = Math.floor(random() * 8); index > 0; index--) text += pieces[Math.floor(random() * pieces.length)] ?? '';
  return text;
}

/** One random edit of a JSON text: a character inserted, deleted or replaced (mostly JSON's structural ones). */
export function mutatedJson(data: string, random: () => number): string {
  const at = Math.floor(random() * (data.length + 1));
  const characters = '"\\{}[],: 0n\u0001x';
  const character = characters[Math.floor(random() * characters.length)] ?? 'x';
  const edit = Math.floor(random() * 3);
  if (edit === 0) return data.slice(0, at) + character + data.slice(at);
  if (edit === 1) return data.slice(0, at) + data.slice(at + 1);
  return data.slice(0, at) + character + data.slice(at + 1);
}

/** Each JSON text as it is, once edited and twice edited (mutatedJson): the inputs of a scan's soundness test. */
export function withMutations(texts: readonly string[], random: () => number): string[] {
  return texts.flatMap((data) => [data, mutatedJson(data, random), mutatedJson(mutatedJson(data, random), random)]);
}

/**
 * Text that is hard on a scan of JSON strings: structural characters, escapes, a raw control
 * character, non-ASCII, an astral character, a lone surrogate, U+2028. Each scan's test adds the
 * key texts that could fool it.
 */
export const jsonStringHazards: readonly string[] = ['a', ' ', '"', '\\', '/', '{', '}', '[', ']', ',', ':', '\n', '\u0000', 'é', '😀', '\ud800', '\u2028'];

/** `pick(choices)`: one of them, chosen by `random`. */
export function picker(random: () => number): <T>(choices: readonly T[]) => T {
  return <T>(choices: readonly T[]): T => choices[Math.floor(random() * choices.length)] as T;
}

/**
 * The data of every recorded event in a folder's `.chunks.txt` files, as a stream scan reads it: the
 * value of each `data: ` line, and each line written as bare JSON (`{…`). Event names, comments and
 * blank lines are left out.
 */
export function recordedDataLines(directory: URL): string[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.chunks.txt'))
    .flatMap((file) => readFileSync(new URL(file, directory), 'utf8').split(/\r?\n/))
    .flatMap((line) => (line.startsWith('data: ') ? [line.slice('data: '.length)] : line.startsWith('{') ? [line] : []));
}

/** A scan's adversarial list, ordered: the inputs before `firstRefused` it must read, that one and the rest it must refuse. */
export function expectAdversarialSplit(scan: (data: string) => unknown, adversarial: readonly string[], firstRefused: string): void {
  const refusedFrom = adversarial.indexOf(firstRefused);
  expect(refusedFrom, 'the first refused input is in the list').toBeGreaterThan(0);
  for (const data of adversarial.slice(0, refusedFrom)) expect(scan(data), data).toBeDefined();
  for (const data of adversarial.slice(refusedFrom)) expect(scan(data), data).toBeUndefined();
}
