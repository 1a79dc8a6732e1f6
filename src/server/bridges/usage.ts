import type { WireFormat } from '../../formats/wire-format.js';
import type { ExchangeUsage } from '../exchange.js';
import { scanTopLevelUsage } from './json-tail-scan.js';

/**
 * Token usage read from what the upstream sent, for the per-request record. Lenient like every
 * upstream read: a missing or odd field is undefined, never an error. Nothing here changes what
 * the client gets. (An OpenAI pass-through stream asks upstream for its usage chunk on the client's
 * behalf and takes it back out for a client that did not ask: openai-stream-usage.ts.)
 */

function field(object: unknown, key: string): unknown {
  return typeof object === 'object' && object !== null ? (object as Record<string, unknown>)[key] : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function fromOpenAIUsage(usage: unknown): ExchangeUsage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined;
  return {
    inputTokens: count(field(usage, 'prompt_tokens')),
    outputTokens: count(field(usage, 'completion_tokens')),
    cachedTokens: count(field(field(usage, 'prompt_tokens_details'), 'cached_tokens')),
  };
}

function fromAnthropicUsage(usage: unknown): ExchangeUsage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined;
  return {
    inputTokens: count(field(usage, 'input_tokens')),
    outputTokens: count(field(usage, 'output_tokens')),
    cachedTokens: count(field(usage, 'cache_read_input_tokens')),
  };
}

/** A Responses `usage`: `input_tokens` includes the cached ones, repeated in `input_tokens_details.cached_tokens`. */
function fromResponsesUsage(usage: unknown): ExchangeUsage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined;
  return {
    inputTokens: count(field(usage, 'input_tokens')),
    outputTokens: count(field(usage, 'output_tokens')),
    cachedTokens: count(field(field(usage, 'input_tokens_details'), 'cached_tokens')),
  };
}

/** Gemini's `usageMetadata`: thinking tokens are output tokens (they are billed as such). */
function fromGeminiUsage(usage: unknown): ExchangeUsage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined;
  const candidates = count(field(usage, 'candidatesTokenCount'));
  const thoughts = count(field(usage, 'thoughtsTokenCount'));
  return {
    inputTokens: count(field(usage, 'promptTokenCount')),
    outputTokens: candidates === undefined && thoughts === undefined ? undefined : (candidates ?? 0) + (thoughts ?? 0),
    cachedTokens: count(field(usage, 'cachedContentTokenCount')),
  };
}

/** Usage from the `usage` object (Gemini: `usageMetadata`) of an upstream answer in `upstreamFormat`. */
export function usageFromUsageObject(upstreamFormat: WireFormat, usage: unknown): ExchangeUsage | undefined {
  if (upstreamFormat === 'gemini') return fromGeminiUsage(usage);
  if (upstreamFormat === 'openai-responses') return fromResponsesUsage(usage);
  return upstreamFormat === 'anthropic-messages' ? fromAnthropicUsage(usage) : fromOpenAIUsage(usage);
}

/** Usage from a parsed non-streamed upstream answer. */
export function usageFromAnswer(upstreamFormat: WireFormat, answer: unknown): ExchangeUsage | undefined {
  return usageFromUsageObject(upstreamFormat, field(answer, upstreamFormat === 'gemini' ? 'usageMetadata' : 'usage'));
}

const usageMetadataKey = Buffer.from('"usageMetadata"');

/**
 * The last `usageMetadata` object in Gemini bytes (a whole answer, or a stream's last pieces in
 * either framing, inside a Code Assist envelope or not): Gemini repeats it on every chunk and the
 * last one counts. Found by searching back for the key, then cutting its object out by a
 * string-aware brace count; only that object is parsed. Undefined when there is none (or it is cut).
 */
export function lastGeminiUsage(bytes: Buffer): ExchangeUsage | undefined {
  const at = bytes.lastIndexOf(usageMetadataKey);
  if (at === -1) return undefined;
  const open = bytes.indexOf(0x7b, at + usageMetadataKey.length);
  if (open === -1) return undefined;
  let depth = 0;
  let inString = false;
  for (let index = open; index < bytes.length; index++) {
    const byte = bytes[index];
    if (inString) {
      if (byte === 0x5c) index++;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b) depth++;
    else if (byte === 0x7d && --depth === 0) {
      try {
        return fromGeminiUsage(JSON.parse(bytes.toString('utf8', open, index + 1)));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Bytes kept from each end of a stream (4 KiB): the events carrying usage are small and at the ends. */
const keptBytes = 4 * 1024;

/** Lines read from the end of a stream at most: the usage and error events are among the last few. */
const maxLinesFromEnd = 64;

/**
 * Watches a relayed stream without parsing it: it keeps references to the last pieces (OpenAI's
 * usage chunk comes just before `[DONE]`, Anthropic's `message_delta` just before `message_stop`,
 * an error event ends a stream) and, for Anthropic, the first ones (`message_start` has the input
 * tokens), about 4 KiB at each end. Per piece the cost is an array push.
 *
 * At the end it reads lines backwards from the last byte and parses only the few `data:` lines that
 * carry a usage object or an error, stopping at the first ordinary content event: everything that
 * reports usage or failure comes after the content. A forward search of both 4 KiB windows for
 * `"usage"` cost ~10 µs per stream (a search is ~1 ns per byte, and the needle sits at the end);
 * this reads a few hundred bytes.
 */
export class StreamUsageSniffer {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private readonly tail: Buffer[] = [];
  private tailBytes = 0;

  /**
   * `findsUpstreamError`: whether finish() looks for the upstream's error event in the bytes. A
   * translated stream's translator already failed the stream on it, so a Responses stream's search
   * for its failure markers (~6 µs of a 4 KiB tail per stream in the profile) is skipped then.
   */
  constructor(
    private readonly upstreamFormat: WireFormat,
    private readonly findsUpstreamError = true,
  ) {}

  observe(piece: Buffer): void {
    if (this.upstreamFormat === 'anthropic-messages' && this.headBytes < keptBytes) {
      this.head.push(piece);
      this.headBytes += piece.length;
    }
    this.tail.push(piece);
    this.tailBytes += piece.length;
    while (this.tail.length > 1 && this.tailBytes - (this.tail[0] as Buffer).length >= keptBytes) this.tailBytes -= (this.tail.shift() as Buffer).length;
  }

  /**
   * The usage the final (and, for Anthropic, first) events report (undefined when they report
   * none), and whether the stream ended in the upstream's error event: a same-format stream relays
   * it as bytes, so only this tells the record that the stream ended in an error.
   */
  finish(): { usage: ExchangeUsage | undefined; upstreamError: boolean } {
    if (this.upstreamFormat === 'gemini') {
      const bytes = joined(this.tail);
      return { usage: lastGeminiUsage(bytes), upstreamError: geminiStreamEndsInError(bytes) };
    }
    // The last ~1 KiB first (the usage chunk and `[DONE]` are usually the last two pieces); the
    // whole kept tail only when the walk reached that window's start without deciding.
    if (this.upstreamFormat === 'openai-responses') return responsesStreamEnd(joined(this.tail), this.findsUpstreamError);
    let end = readStreamEnd(joined(lastPieces(this.tail, firstTryBytes)), this.upstreamFormat);
    if (!end.decided && lastPieces(this.tail, firstTryBytes).length < this.tail.length) end = readStreamEnd(joined(this.tail), this.upstreamFormat);
    if (this.upstreamFormat === 'openai-chat') return { usage: end.usage, upstreamError: end.upstreamError };
    // message_delta's counts are cumulative and win; message_start's fill what it lacks.
    const start = end.startUsage ?? anthropicStartUsage(joined(this.head));
    const usage =
      end.usage === undefined && start === undefined
        ? undefined
        : {
            inputTokens: end.usage?.inputTokens ?? start?.inputTokens,
            outputTokens: end.usage?.outputTokens ?? start?.outputTokens,
            cachedTokens: end.usage?.cachedTokens ?? start?.cachedTokens,
          };
    return { usage, upstreamError: end.upstreamError };
  }
}

/**
 * A Gemini stream (either framing) whose last chunk is an error object rather than an answer: an
 * `"error"` key after the last `"candidates"` (inside text, quotes are escaped, so the literal with
 * its quotes is a key or a bare value).
 */
function geminiStreamEndsInError(bytes: Buffer): boolean {
  // The same as `lastIndexOf('"error"') > lastIndexOf('"candidates"')`, without searching the whole
  // tail backwards for an error key that is usually not there (~6 µs per stream in the profile):
  // the last "candidates" is near the end, and only what follows it is searched.
  return bytes.indexOf(errorKey, bytes.lastIndexOf(candidatesKey) + 1) !== -1;
}
const errorKey = Buffer.from('"error"');
const candidatesKey = Buffer.from('"candidates"');

/** Bytes from the end read in a first attempt; most streams need only their last two events. */
const firstTryBytes = 1024;

/** The shortest run of last pieces holding at least `bytes` bytes (all of them when shorter). */
function lastPieces(pieces: Buffer[], bytes: number): Buffer[] {
  let total = 0;
  let first = pieces.length;
  while (first > 0 && total < bytes) total += (pieces[--first] as Buffer).length;
  return first === 0 ? pieces : pieces.slice(first);
}

function joined(pieces: Buffer[]): Buffer {
  return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
}

const lineFeed = 0x0a;
const dataPrefix = Buffer.from('data:');

/** The JSON after `data:` on the line `start..end` of `bytes`: its text and where it is; undefined for another line. */
function dataPayload(bytes: Buffer, start: number, end: number): { text: string; from: number; to: number } | undefined {
  if (end - start < dataPrefix.length || bytes.compare(dataPrefix, 0, dataPrefix.length, start, start + dataPrefix.length) !== 0) return undefined;
  const to = end > start && bytes[end - 1] === 0x0d ? end - 1 : end; // a CRLF line
  return { text: bytes.toString('utf8', start + dataPrefix.length, to).trim(), from: start + dataPrefix.length, to };
}

/** True when the payload has a `"usage"` key whose value is not null (OpenAI sends `"usage":null` on every chunk with include_usage). */
function hasUsage(payload: string): boolean {
  for (let at = payload.indexOf('"usage"'); at !== -1; at = payload.indexOf('"usage"', at + 7)) {
    if (!/^\s*:\s*null/.test(payload.slice(at + 7, at + 19))) return true;
  }
  return false;
}

/** Events that may follow the usage-bearing one: skipped when reading backwards. */
function isTrailer(payload: string, upstreamFormat: WireFormat): boolean {
  if (upstreamFormat === 'openai-chat') return payload === '[DONE]';
  return payload.includes('"message_stop"') || payload.includes('"ping"') || payload.includes('"content_block_stop"');
}

function parsed(payload: string): unknown {
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return undefined; // the first line of a window may be a fragment
  }
}

function isErrorEvent(event: unknown): boolean {
  return field(event, 'error') !== undefined || field(event, 'type') === 'error';
}

interface StreamEnd {
  usage: ExchangeUsage | undefined;
  /** An Anthropic message_start met on the way (a short stream), so the head need not be read. */
  startUsage: ExchangeUsage | undefined;
  upstreamError: boolean;
  /** False when the walk reached the start of `bytes` without meeting content or the first event: more bytes could tell more. */
  decided: boolean;
}

/**
 * Reads `bytes` (the last pieces of a stream) line by line from the end: trailers are skipped,
 * `data:` lines with usage or an error are parsed, the first other event ends the walk.
 */
function readStreamEnd(bytes: Buffer, upstreamFormat: WireFormat): StreamEnd {
  const found: StreamEnd = { usage: undefined, startUsage: undefined, upstreamError: false, decided: true };
  let lineEnd = bytes.length;
  for (let lines = 0; lineEnd > 0 && lines < maxLinesFromEnd; lines++) {
    const newline = bytes.lastIndexOf(lineFeed, lineEnd - 1);
    const line = dataPayload(bytes, newline + 1, lineEnd);
    lineEnd = newline;
    if (line === undefined || line.text === '' || isTrailer(line.text, upstreamFormat)) continue;
    const payload = line.text;
    const usageHere = hasUsage(payload);
    const errorHere = payload.includes('"error"');
    if (!usageHere && !errorHere) return found; // content: usage and errors come after it
    if (upstreamFormat === 'openai-chat' && !errorHere) {
      // OpenAI's usage chunk: only its usage value is parsed, read back from the line's end.
      const scan = scanTopLevelUsage(bytes.subarray(line.from, line.to));
      if (scan.kind !== 'unknown') {
        found.usage = scan.kind === 'found' ? fromOpenAIUsage(scan.value) : undefined;
        if (found.usage !== undefined) return found;
        continue;
      }
    }
    const event = parsed(payload);
    if (isErrorEvent(event)) found.upstreamError = true;
    if (!usageHere) continue;
    if (upstreamFormat === 'openai-chat') {
      found.usage = fromOpenAIUsage(field(event, 'usage'));
      if (found.usage !== undefined) return found;
      continue;
    }
    const type = field(event, 'type');
    if (type === 'message_delta') found.usage ??= fromAnthropicUsage(field(event, 'usage'));
    else if (type === 'message_start') {
      found.startUsage = fromAnthropicUsage(field(field(event, 'message'), 'usage'));
      return found; // the stream's first event: nothing before it
    }
  }
  found.decided = lineEnd > 0; // stopped by the line bound, not by the window's start
  return found;
}

/** The usage of Anthropic's message_start, the first event of a stream (after any `ping`). */
function anthropicStartUsage(bytes: Buffer): ExchangeUsage | undefined {
  let lineStart = 0;
  while (lineStart < bytes.length) {
    const newline = bytes.indexOf(lineFeed, lineStart);
    const lineEnd = newline === -1 ? bytes.length : newline;
    const payload = dataPayload(bytes, lineStart, lineEnd)?.text;
    lineStart = lineEnd + 1;
    if (payload === undefined || payload === '' || payload.includes('"ping"')) continue;
    const event = parsed(payload);
    return field(event, 'type') === 'message_start' ? fromAnthropicUsage(field(field(event, 'message'), 'usage')) : undefined;
  }
  return undefined;
}

const usageKey = Buffer.from('"usage":{');
const responsesFailureMarkers = ['event: response.failed', '"type":"response.failed"', 'event: error\n', '"type":"error"'].map((marker) => Buffer.from(marker));

/**
 * The end of a Responses stream: `response.completed` carries the whole response, often far more
 * than the kept 4 KiB, but its `usage` object sits near its end (after the output, before `user`
 * and `metadata`), so the last `"usage":{` of the tail is read up to its closing brace (usage holds
 * only numbers and nested objects, no strings with braces) and parsed alone. A failure event
 * (`response.failed`, `error`) is small and at the end, inside the window.
 */
function responsesStreamEnd(bytes: Buffer, findsUpstreamError: boolean): { usage: ExchangeUsage | undefined; upstreamError: boolean } {
  const upstreamError = findsUpstreamError && responsesFailureMarkers.some((marker) => bytes.includes(marker));
  const at = bytes.lastIndexOf(usageKey);
  if (at === -1) return { usage: undefined, upstreamError };
  const start = at + usageKey.length - 1;
  let depth = 0;
  for (let index = start; index < bytes.length; index++) {
    if (bytes[index] === 0x7b) depth++;
    else if (bytes[index] === 0x7d && --depth === 0) return { usage: fromResponsesUsage(parsed(bytes.toString('utf8', start, index + 1))), upstreamError };
  }
  return { usage: undefined, upstreamError };
}
