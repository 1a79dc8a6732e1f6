/**
 * The top-level `usage` of a JSON object, read from the object's end (answer-scan.ts for a relayed
 * JSON answer, usage.ts for the last events of a stream): parsing only that value costs a fraction
 * of parsing the whole object, and usage is the last or nearly the last member in both formats.
 */

import { backslashesBefore } from '../json-bytes.js';

// Byte values as file-local constants, not imports: the hot loops compare against literals this
// way (with the constants imported, the body scan measured 1.5-2x slower in bench/json-scan.mjs).
const quote = 0x22;
const backslash = 0x5c;
const openObject = 0x7b;
const closeObject = 0x7d;
const openArray = 0x5b;
const closeArray = 0x5d;
const comma = 0x2c;
const colon = 0x3a;

/** Bytes read back from the end of a JSON object for its usage; beyond that, the caller parses it all. */
export const usageScanBytes = 4 * 1024;

export function isJsonSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Index of the first byte that is not JSON whitespace (`bytes.length` when there is none). */
export function firstNonSpace(bytes: Buffer): number {
  let index = 0;
  while (index < bytes.length && isJsonSpace(bytes[index])) index++;
  return index;
}

/** Index of the last byte that is not JSON whitespace (-1 when there is none). */
export function lastNonSpace(bytes: Buffer): number {
  let index = bytes.length - 1;
  while (index >= 0 && isJsonSpace(bytes[index])) index--;
  return index;
}

/**
 * Index of the opening quote of the string whose closing quote is at `closing`, or -1. A plain
 * loop: `Buffer#lastIndexOf` costs a native call each, more than the few bytes of a usual string.
 */
function openingQuote(bytes: Buffer, closing: number): number {
  for (let at = closing - 1; at >= 0; at--) {
    if (bytes[at] !== quote) continue;
    const backslashes = backslashesBefore(bytes, at, 0);
    if (backslashes % 2 === 0) return at; // an escaped quote (odd run of backslashes) is inside the string
    at -= backslashes;
  }
  return -1;
}

const usageKey = Buffer.from('usage');

/** What the backward scan found: the top-level `usage` value, proof that there is none, or nothing certain. */
export type TailScan = { kind: 'found'; value: unknown } | { kind: 'absent' } | { kind: 'unknown' };

/**
 * Reads a JSON object from its end backwards, at most `usageScanBytes` bytes, for the value of its
 * top-level key `usage`. Strings are skipped whole (their closing quote is found by counting the
 * backslashes before each quote), so a `"usage"` inside a message text or a nested object's
 * `usage` is never taken. Only the usage value itself is parsed. `unknown` (then the caller parses
 * the whole answer) when the key is not within reach, a top-level key is written with escapes
 * (`"us\u0061ge"` means `usage` to a parser), or anything is not as valid JSON has it.
 */
export function scanTopLevelUsage(body: Buffer): TailScan {
  const end = lastNonSpace(body);
  if (end < 0 || body[end] !== closeObject) return { kind: 'unknown' };
  const limit = Math.max(0, body.length - usageScanBytes);
  let depth = 1;
  let valueEnd = end; // where the value of the top-level member being read back ends (exclusive)
  for (let index = end - 1; index >= limit; index--) {
    const byte = body[index];
    if (byte === quote) {
      const opening = openingQuote(body, index);
      if (opening < limit) return { kind: 'unknown' };
      index = opening;
      continue;
    }
    if (byte === closeObject || byte === closeArray) depth++;
    else if (byte === openObject || byte === openArray) {
      depth--;
      if (depth === 0) return index === firstNonSpace(body) ? { kind: 'absent' } : { kind: 'unknown' };
    } else if (depth === 1 && byte === comma) valueEnd = index;
    else if (depth === 1 && byte === colon) {
      let keyEnd = index - 1;
      while (keyEnd >= limit && isJsonSpace(body[keyEnd])) keyEnd--;
      if (keyEnd < limit || body[keyEnd] !== quote) return { kind: 'unknown' };
      const keyStart = openingQuote(body, keyEnd);
      if (keyStart < limit) return { kind: 'unknown' };
      for (let at = keyStart + 1; at < keyEnd; at++) if (body[at] === backslash) return { kind: 'unknown' }; // an escaped key: the parser decodes it
      if (keyEnd - keyStart - 1 === usageKey.length && body.compare(usageKey, 0, usageKey.length, keyStart + 1, keyEnd) === 0) {
        try {
          return { kind: 'found', value: JSON.parse(body.toString('utf8', index + 1, valueEnd)) as unknown };
        } catch {
          return { kind: 'unknown' };
        }
      }
      index = keyStart;
    }
  }
  return { kind: 'unknown' };
}

