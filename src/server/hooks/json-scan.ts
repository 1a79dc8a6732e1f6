/**
 * One linear pass over a JSON body's bytes, before `JSON.parse`, for the two things the parser
 * cannot refuse:
 *
 * - **Duplicate keys.** `JSON.parse` keeps the last value of a repeated key, other parsers keep the
 *   first. The gateway validates the parsed body and forwards the original bytes, so
 *   `{"max_tokens":999999,"max_tokens":10}` would pass the cap on 10 and reach an upstream that reads
 *   999999: a parser differential. A repeated key in any object, at any depth, is refused. Keys are
 *   compared after unescaping (`"mod\u0065l"` is `"model"`), as every parser reads them.
 * - **Nesting depth.** `JSON.parse` is iterative and accepts 200,000 nested arrays, but
 *   `JSON.stringify` (a rewritten body) and every recursive reader after it overflow the stack.
 *
 * The pass does not check syntax: that is the parser's job right after. On malformed input it
 * still ends in linear time and either reports nothing or a problem the parser would refuse anyway.
 * String contents are skipped with `indexOf` (native memchr), so a body made of long message texts
 * costs little more than finding its quotes.
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

/** Up to this many keys an object's keys are compared by hash in a list; above it, a Set of strings. */
const keysBeforeSet = 16;

/** Strings are first searched byte by byte for this many bytes: cheaper than a native call for short ones. */
const shortStringBytes = 32;

/** Keys named in error messages are cut to this length: the client chose them. */
const maxReportedKeyLength = 64;

export type JsonScanProblem = { kind: 'duplicate-key'; key: string } | { kind: 'too-deep'; maxDepth: number } | { kind: 'prototype-key' };

/**
 * What the scan noticed without refusing it. A `constructor` key is harmless by itself (a tool
 * schema may name a property so); prototype poisoning needs `constructor.prototype`, which the
 * parser's caller then checks on the parsed body (secure-json-parse's constructor check) — only for
 * the rare body that has such a key, instead of two regular-expression passes over every body.
 */
export interface JsonScanFindings {
  constructorKey: boolean;
}

/** The index of the quote that ends the string starting at `start`, or -1. */
function endOfString(bytes: Buffer, start: number): number {
  const shortEnd = Math.min(bytes.length, start + shortStringBytes);
  let index = start;
  for (; index < shortEnd; index += 1) {
    const byte = bytes[index];
    if (byte === quote) return index;
    if (byte === backslash) index += 1;
  }
  // A long string (a message text): memchr from quote to quote, skipping escaped ones.
  let end = bytes.indexOf(quote, index);
  while (end !== -1 && backslashesBefore(bytes, end, start) % 2 === 1) end = bytes.indexOf(quote, end + 1);
  return end;
}

/** The key between the quotes at `start - 1` and `end`, as a parser reads it. */
function decodeKey(bytes: Buffer, start: number, end: number, plain: boolean): string {
  if (plain) return bytes.toString('latin1', start, end);
  try {
    return JSON.parse(bytes.toString('utf8', start - 1, end + 1)) as string;
  } catch {
    return bytes.toString('latin1', start, end); // malformed: JSON.parse refuses the body next
  }
}

/** The same hash as the byte loop computes, over a decoded key's UTF-16 code units. */
function hashOfString(text: string): number {
  let hash = 0;
  for (let index = 0; index < text.length; index += 1) hash = (Math.imul(hash, 31) + text.charCodeAt(index)) | 0;
  return hash;
}

const noBytes = Buffer.alloc(0);

/** Hashes of the two key names prototype poisoning uses: compared in full only when a key's hash matches. */
const protoKeyHash = hashOfString('__proto__');
const constructorKeyHash = hashOfString('constructor');

/**
 * The keys of every object currently open, on one stack: each object owns the entries from its
 * base to the top. Keys are kept as (hash, position) and compared as strings only when hashes
 * agree, so the common case allocates nothing. An object with many keys switches to a Set of
 * strings, so a body that is one huge object stays linear.
 */
class OpenObjectKeys {
  readonly #hashes: number[] = [];
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  readonly #plain: boolean[] = [];
  #top = 0;
  readonly #bases: number[] = [];
  readonly #sets: (Set<string> | undefined)[] = [];
  bytes: Buffer = noBytes;

  /** Starts a scan of `bytes`; the arrays are reused, so a small body allocates nothing here. */
  begin(bytes: Buffer): void {
    this.bytes = bytes;
    this.#top = 0;
  }

  /** Drops the reference to the scanned body and any Set, so nothing large outlives the scan. */
  end(): void {
    this.bytes = noBytes; // one shared empty buffer: a Buffer.alloc per request showed in the profile
    this.#sets.length = 0;
  }

  open(depth: number): void {
    this.#bases[depth] = this.#top;
    this.#sets[depth] = undefined;
  }

  close(depth: number): void {
    this.#top = this.#bases[depth] ?? 0;
  }

  /** Adds the key at `start..end` to the object at `depth`; returns it when it was already there. */
  add(depth: number, start: number, end: number, plain: boolean, hash: number): string | undefined {
    const set = this.#sets[depth];
    if (set !== undefined) {
      const key = decodeKey(this.bytes, start, end, plain);
      if (set.has(key)) return key;
      set.add(key);
      return undefined;
    }
    const base = this.#bases[depth] ?? 0;
    let key: string | undefined;
    for (let index = base; index < this.#top; index += 1) {
      if (this.#hashes[index] !== hash) continue;
      key ??= decodeKey(this.bytes, start, end, plain);
      if (decodeKey(this.bytes, this.#starts[index]!, this.#ends[index]!, this.#plain[index]!) === key) return key;
    }
    const top = this.#top;
    this.#hashes[top] = hash;
    this.#starts[top] = start;
    this.#ends[top] = end;
    this.#plain[top] = plain;
    this.#top = top + 1;
    if (this.#top - base > keysBeforeSet) {
      const keys = new Set<string>();
      for (let index = base; index < this.#top; index += 1) keys.add(decodeKey(this.bytes, this.#starts[index]!, this.#ends[index]!, this.#plain[index]!));
      this.#sets[depth] = keys;
    }
    return undefined;
  }
}

/**
 * Scans `bytes` (a JSON text) for a key repeated in one object, nesting deeper than `maxDepth`
 * objects and arrays, or a `__proto__` key (as a parser reads it: `"__pr\u006fto__"` too).
 * Returns the first problem found, or undefined; `findings` says whether a `constructor` key was seen.
 */
export function scanJsonStructure(bytes: Buffer, maxDepth: number, findings?: JsonScanFindings): JsonScanProblem | undefined {
  // The scan is synchronous, so one set of scratch state serves every call.
  if (containerKinds.length < maxDepth + 1) containerKinds = new Uint8Array(maxDepth + 1);
  scratchKeys.begin(bytes);
  try {
    return scan(bytes, maxDepth, containerKinds, scratchKeys, findings ?? { constructorKey: false });
  } finally {
    scratchKeys.end();
  }
}

/** 1 = object, 0 = array, per open depth (index 0 is the top level, outside any container). */
let containerKinds = new Uint8Array(0);
const scratchKeys = new OpenObjectKeys();

function scan(bytes: Buffer, maxDepth: number, containerIsObject: Uint8Array, keys: OpenObjectKeys, findings: JsonScanFindings): JsonScanProblem | undefined {
  const length = bytes.length;
  let depth = 0;
  let expectKey = false;
  let index = 0;
  while (index < length) {
    const byte = bytes[index];
    if (byte === quote) {
      if (!expectKey) {
        const end = endOfString(bytes, index + 1);
        if (end === -1) return undefined; // unterminated string: the parser refuses it
        index = end + 1;
        continue;
      }
      // A key: hashed while it is read; escapes and non-ASCII are decoded and hashed as text.
      const start = index + 1;
      let hash = 0;
      let plain = true;
      for (index = start; index < length; index += 1) {
        const keyByte = bytes[index]!;
        if (keyByte === quote) break;
        if (keyByte === backslash) {
          plain = false;
          index += 1;
        } else if (keyByte >= 0x80) plain = false;
        hash = (Math.imul(hash, 31) + keyByte) | 0;
      }
      if (index >= length) return undefined;
      if (!plain) hash = hashOfString(decodeKey(bytes, start, index, false));
      if (hash === protoKeyHash || hash === constructorKeyHash) {
        const name = decodeKey(bytes, start, index, plain);
        if (name === '__proto__') return { kind: 'prototype-key' };
        if (name === 'constructor') findings.constructorKey = true;
      }
      const repeated = keys.add(depth, start, index, plain, hash);
      if (repeated !== undefined) return { kind: 'duplicate-key', key: repeated.slice(0, maxReportedKeyLength) };
      expectKey = false;
      index += 1;
      continue;
    }
    if (byte === openObject || byte === openArray) {
      depth += 1;
      if (depth > maxDepth) return { kind: 'too-deep', maxDepth };
      const isObject = byte === openObject;
      containerIsObject[depth] = isObject ? 1 : 0;
      if (isObject) keys.open(depth);
      expectKey = isObject;
    } else if (byte === closeObject || byte === closeArray) {
      if (depth > 0) {
        if (containerIsObject[depth] === 1) keys.close(depth);
        depth -= 1;
      }
      expectKey = false;
    } else if (byte === comma) {
      // In an object a comma is followed by a key; in an array, by a value.
      expectKey = containerIsObject[depth] === 1;
    }
    index += 1;
  }
  return undefined;
}
