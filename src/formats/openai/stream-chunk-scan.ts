/**
 * The fast path of reading an OpenAI chat-completion stream chunk (issue #12, "Cost").
 *
 * Nearly every chunk of a streamed answer is a plain content delta:
 * `{"id":"chatcmpl-…","object":"chat.completion.chunk","created":…,"model":"…",
 * "choices":[{"index":0,"delta":{"content":"…"},"logprobs":null,"finish_reason":null}]}`, and a
 * translator reads three things from it: `id`, `model` and the content (and the finish_reason,
 * for a server that sends the last text with it). `JSON.parse` of the whole
 * chunk was the largest item of a translated stream's CPU (docs/benchmarks.md, "Translated
 * streams"); this scan finds the three with `startsWith`/`indexOf` over the text and decodes only
 * those strings.
 *
 * It is conservative: it answers only for a chunk that is exactly that shape, written compactly
 * (no whitespace), each key one it knows (topLevelKey, scanChoice, scanDelta) and seen once, valid
 * JSON as far as it reads. Anything else (tool calls, a finish_reason without content, usage, an error, reasoning,
 * an unknown, duplicate or escaped key, whitespace, a number it does not know) is `undefined`, and
 * the caller parses the chunk with `JSON.parse` as before. A chunk it accepts is one `JSON.parse`
 * reads to an object with the same `id`, `model`, `choices[0].delta.content` and string `finish_reason`, and nothing else
 * a translator reads (stream-chunk-scan.test.ts checks this over the fixtures and generated and
 * mutated chunks; bridges/content-chunk-fast-path.test.ts compares each bridge's output with and
 * without it). Per stream, createOpenAIContentChunkReader skips even the scan for chunks that
 * differ from the last accepted one only in their content. Pure.
 */
export interface OpenAIContentChunk {
  /** The chunk's `id`, when it has one. */
  id: string | undefined;
  /** The chunk's `model`, when it has one. */
  model: string | undefined;
  /** `choices[0].delta.content`, decoded. */
  content: string;
  /**
   * `choices[0].finish_reason` when it is a string: some OpenAI-compatible servers (the benchmark's
   * stub among them) send the last text with it, which was a JSON.parse per stream. Undefined for
   * `null` or none.
   */
  finishReason: string | undefined;
}

/** A scanned chunk, with where its content string is: the indexes of its opening and closing quotes. */
export interface ScannedContentChunk extends OpenAIContentChunk {
  contentStart: number;
  contentEnd: number;
}

const quote = 34; // "
const backslash = 92;
/** Raw control characters are never valid in compact JSON (not in strings, and whitespace is refused here). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const controlCharacter = /[\u0000-\u001f]/;

/**
 * The index of the closing quote of the JSON string opening at `start` (a quote), or -1. Escapes
 * are checked where the string is decoded (decodeString), control characters once per chunk.
 */
export function stringEnd(data: string, start: number): number {
  let end = data.indexOf('"', start + 1);
  // A quote preceded by an odd number of backslashes is escaped: look further.
  while (end !== -1 && data.charCodeAt(end - 1) === backslash) {
    let backslashes = 1;
    while (data.charCodeAt(end - 1 - backslashes) === backslash) backslashes++;
    if (backslashes % 2 === 0) break;
    end = data.indexOf('"', end + 1);
  }
  return end;
}

/**
 * The JSON string whose text (between its quotes) is `body`, decoded exactly as JSON.parse decodes
 * it; undefined when `body` is not one valid JSON string's text (a bad escape, a raw control
 * character, an unescaped quote).
 */
export function decodeStringBody(body: string): string | undefined {
  if (body.indexOf('\\') === -1) {
    if (body.indexOf('"') !== -1) return undefined;
    for (let index = 0; index < body.length; index++) if (body.charCodeAt(index) < 0x20) return undefined;
    return body;
  }
  try {
    // JSON.parse of one string literal: an unescaped quote inside makes it two tokens and throws.
    return JSON.parse(`"${body}"`) as string;
  } catch {
    return undefined;
  }
}

/** The string from `start` (its opening quote) to `end` (its closing quote), decoded; undefined when not valid JSON. */
function decodeString(data: string, start: number, end: number): string | undefined {
  return decodeStringBody(data.slice(start + 1, end));
}

/**
 * After a plain value at `start` (a string, `null`, and for `created` a JSON integer): the index
 * just past it, or -1. Also used by the Responses delta scan (formats/responses/stream-event-scan.ts).
 */
export function skipPlainValue(data: string, start: number, allowNumber: boolean): number {
  const first = data.charCodeAt(start);
  if (first === quote) {
    const end = stringEnd(data, start);
    return end === -1 || decodeString(data, start, end) === undefined ? -1 : end + 1;
  }
  if (data.startsWith('null', start)) return start + 4;
  if (!allowNumber) return -1;
  // An integer without sign or leading zero (a Unix time); anything else goes to JSON.parse.
  if (first === 48) return start + 1;
  let index = start;
  while (index < data.length) {
    const code = data.charCodeAt(index);
    if (code < 48 || code > 57) break;
    index++;
  }
  return index === start || index - start > 15 ? -1 : index;
}

// Top-level keys, as bits so that a duplicate (which JSON.parse resolves to its last value) is refused.
const keyId = 1;
const keyObject = 2;
const keyCreated = 4;
const keyModel = 8;
const keySystemFingerprint = 16;
const keyServiceTier = 32;
const keyObfuscation = 64;
const keyUsage = 128;
const keyChoices = 256;

/**
 * The top-level key at `position` (its opening quote) as its bit, or 0 for any other key. The
 * key's length and first letter pick the candidate, one `startsWith` confirms it (with the closing
 * quote and colon, so an escaped or longer key never matches).
 */
function topLevelKey(data: string, position: number): number {
  const keyEnd = data.indexOf('"', position + 1);
  const first = data.charCodeAt(position + 1);
  switch (keyEnd - position - 1) {
    case 2:
      return data.startsWith('"id":', position) ? keyId : 0;
    case 5:
      if (first === 109 /* m */) return data.startsWith('"model":', position) ? keyModel : 0;
      return data.startsWith('"usage":', position) ? keyUsage : 0;
    case 6:
      return data.startsWith('"object":', position) ? keyObject : 0;
    case 7:
      if (first === 99 /* c */ && data.charCodeAt(position + 2) === 104 /* h */) return data.startsWith('"choices":', position) ? keyChoices : 0;
      return data.startsWith('"created":', position) ? keyCreated : 0;
    case 11:
      return data.startsWith('"obfuscation":', position) ? keyObfuscation : 0;
    case 12:
      return data.startsWith('"service_tier":', position) ? keyServiceTier : 0;
    case 18:
      return data.startsWith('"system_fingerprint":', position) ? keySystemFingerprint : 0;
    default:
      return 0;
  }
}

/** Key lengths with quotes and colon, by key bit. */
const keyTextLength: Record<number, number> = { [keyId]: 5, [keyObject]: 9, [keyCreated]: 10, [keyModel]: 8, [keySystemFingerprint]: 21, [keyServiceTier]: 15, [keyObfuscation]: 14, [keyUsage]: 8, [keyChoices]: 10 };

/** Where scanChoice and scanDelta leave the content string's quotes, and the finish_reason they read. */
interface ContentPosition {
  start: number;
  end: number;
  finishReason: string | undefined;
}

/** `{"index":0,"delta":{…},"logprobs":null,"finish_reason":null or "…"}` in any key order (index and delta required). */
function scanChoice(data: string, start: number, content: ContentPosition): number {
  if (data.charCodeAt(start) !== 123 /* { */) return -1;
  let position = start + 1;
  let seen = 0;
  for (;;) {
    let bit: number;
    if (data.startsWith('"index":0', position)) {
      bit = 1;
      position += 9;
    } else if (data.startsWith('"delta":{', position)) {
      bit = 2;
      position = scanDelta(data, position + 8, content);
      if (position === -1) return -1;
    } else if (data.startsWith('"logprobs":null', position)) {
      bit = 4;
      position += 15;
    } else if (data.startsWith('"finish_reason":null', position)) {
      bit = 8;
      position += 20;
    } else if (data.startsWith('"finish_reason":"', position)) {
      bit = 8;
      const valueStart = position + 16;
      const end = stringEnd(data, valueStart);
      const reason = end === -1 ? undefined : decodeString(data, valueStart, end);
      if (reason === undefined) return -1;
      content.finishReason = reason;
      position = end + 1;
    } else return -1;
    if ((seen & bit) !== 0) return -1;
    seen |= bit;
    const next = data.charCodeAt(position);
    if (next === 125 /* } */) return (seen & 3) === 3 ? position + 1 : -1;
    if (next !== 44 /* , */) return -1;
    position++;
  }
}

/** `{"content":"…"}`, with `"role":"<string>"` and `"refusal":null` allowed beside it, in any order. */
function scanDelta(data: string, start: number, content: ContentPosition): number {
  let position = start + 1;
  let seen = 0;
  for (;;) {
    let bit: number;
    if (data.startsWith('"content":"', position)) {
      bit = 1;
      const valueStart = position + 10;
      const end = stringEnd(data, valueStart);
      if (end === -1) return -1;
      content.start = valueStart;
      content.end = end;
      position = end + 1;
    } else if (data.startsWith('"role":"', position)) {
      bit = 2;
      position = skipPlainValue(data, position + 7, false);
    } else if (data.startsWith('"refusal":null', position)) {
      bit = 4;
      position += 14;
    } else return -1;
    if (position === -1 || (seen & bit) !== 0) return -1;
    seen |= bit;
    const next = data.charCodeAt(position);
    if (next === 125 /* } */) return (seen & 1) === 1 ? position + 1 : -1;
    if (next !== 44 /* , */) return -1;
    position++;
  }
}

/** The plain content chunk's id, model and content, or undefined: then the chunk is JSON.parse's. */
export function scanOpenAIContentChunk(data: string): ScannedContentChunk | undefined {
  if (data.charCodeAt(0) !== 123 /* { */ || controlCharacter.test(data)) return undefined;
  let id: string | undefined;
  let model: string | undefined;
  const content: ContentPosition = { start: -1, end: -1, finishReason: undefined };
  let position = 1;
  let seen = 0;
  for (;;) {
    if (data.charCodeAt(position) !== quote) return undefined;
    const bit = topLevelKey(data, position);
    if (bit === 0 || (seen & bit) !== 0) return undefined;
    seen |= bit;
    const valueStart = position + (keyTextLength[bit] ?? 0);
    if (bit === keyChoices) {
      if (data.charCodeAt(valueStart) !== 91 /* [ */) return undefined;
      position = scanChoice(data, valueStart + 1, content);
      if (position === -1 || data.charCodeAt(position) !== 93 /* ] */) return undefined;
      position++;
    } else if (bit === keyId || bit === keyModel) {
      // Read as strings only; a null or numeric id goes to JSON.parse.
      if (data.charCodeAt(valueStart) !== quote) return undefined;
      const end = stringEnd(data, valueStart);
      if (end === -1) return undefined;
      const text = decodeString(data, valueStart, end);
      if (text === undefined) return undefined;
      if (bit === keyId) id = text;
      else model = text;
      position = end + 1;
    } else if (bit === keyUsage) {
      if (!data.startsWith('null', valueStart)) return undefined;
      position = valueStart + 4;
    } else {
      position = skipPlainValue(data, valueStart, bit === keyCreated);
      if (position === -1) return undefined;
    }
    const next = data.charCodeAt(position);
    if (next === 125 /* } */) {
      if (position !== data.length - 1 || content.start === -1) return undefined;
      const text = decodeString(data, content.start, content.end);
      return text === undefined ? undefined : { id, model, content: text, finishReason: content.finishReason, contentStart: content.start, contentEnd: content.end };
    }
    if (next !== 44 /* , */) return undefined;
    position++;
  }
}

/** Reads the content chunks of one stream: scanOpenAIContentChunk, remembering the last accepted chunk's text around its content. */
export interface OpenAIContentChunkReader {
  read(data: string): OpenAIContentChunk | undefined;
}

/**
 * One per stream. The content chunks of one stream differ only in their content (same id, model,
 * fields and order), so once a chunk is accepted, a chunk made of the same text before its
 * content's opening quote and after its closing quote, with a valid JSON string body in between,
 * is the same JSON with another content (and the same finish_reason, which is part of that text): two compares and the body's decoding. A chunk that does
 * not match is scanned in full (and becomes the new template when accepted).
 */
export function createOpenAIContentChunkReader(): OpenAIContentChunkReader {
  let prefix = '';
  let suffix = '';
  let id: string | undefined;
  let model: string | undefined;
  let finishReason: string | undefined;
  return {
    read(data) {
      // Slice and `===` (a memory compare) measured 2-3x faster than startsWith/endsWith here.
      const bodyEnd = data.length - suffix.length;
      if (prefix !== '' && bodyEnd >= prefix.length && data.slice(0, prefix.length) === prefix && data.slice(bodyEnd) === suffix) {
        const content = decodeStringBody(data.slice(prefix.length, bodyEnd));
        if (content !== undefined) return { id, model, content, finishReason };
      }
      const scanned = scanOpenAIContentChunk(data);
      if (scanned === undefined) return undefined;
      prefix = data.slice(0, scanned.contentStart + 1);
      suffix = data.slice(scanned.contentEnd);
      id = scanned.id;
      model = scanned.model;
      finishReason = scanned.finishReason;
      return { id, model, content: scanned.content, finishReason };
    },
  };
}
