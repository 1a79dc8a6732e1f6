import type { WireFormat } from '../../formats/wire-format.js';
import type { ExchangeUsage } from '../exchange.js';

/**
 * Token usage read from what the upstream sent, for the per-request record. Lenient like every
 * upstream read: a missing or odd field is undefined, never an error. Nothing here changes what
 * the client gets: a pass-through body is not re-serialised, and a client that did not ask for a
 * usage chunk gets none (an OpenAI client streaming from an OpenAI upstream without
 * `stream_options.include_usage` therefore leaves the record's usage unknown).
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

/** Usage from a non-streamed upstream answer (already parsed for the JSON check). */
export function usageFromAnswer(upstreamFormat: WireFormat, answer: unknown): ExchangeUsage | undefined {
  const usage = field(answer, 'usage');
  return upstreamFormat === 'anthropic-messages' ? fromAnthropicUsage(usage) : fromOpenAIUsage(usage);
}

/** Bytes kept from each end of a stream (4 KiB): the events carrying usage are small and at the ends. */
const keptBytes = 4 * 1024;

/**
 * Watches a relayed stream without parsing it: it keeps references to the first pieces (Anthropic's
 * `message_start` has the input tokens) and the last ones (OpenAI's usage chunk comes just before
 * `[DONE]`, Anthropic's `message_delta` just before `message_stop`), about 4 KiB at each end, and
 * parses only those once the stream is over. Per piece the cost is an array push.
 */
export class StreamUsageSniffer {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private readonly tail: Buffer[] = [];
  private tailBytes = 0;

  constructor(private readonly upstreamFormat: WireFormat) {}

  observe(piece: Buffer): void {
    if (this.headBytes < keptBytes) {
      this.head.push(piece);
      this.headBytes += piece.length;
      return;
    }
    this.tail.push(piece);
    this.tailBytes += piece.length;
    while (this.tail.length > 1 && this.tailBytes - (this.tail[0] as Buffer).length >= keptBytes) this.tailBytes -= (this.tail.shift() as Buffer).length;
  }

  /**
   * The usage the kept events report (undefined when they report none), and whether one of them is
   * the upstream's error event: a same-format stream relays it as bytes, so only this tells the
   * record that the stream ended in an error.
   */
  finish(): { usage: ExchangeUsage | undefined; upstreamError: boolean } {
    // OpenAI reports usage only at the end; only Anthropic's message_start needs the head.
    const head = this.upstreamFormat === 'anthropic-messages' ? dataLines(Buffer.concat(this.head)) : [];
    // The end window starts with the head's last piece, so an event cut between head and tail is whole.
    const end = this.tail.length === 0 ? (this.upstreamFormat === 'openai-chat' ? this.head : []) : [...this.head.slice(-1), ...this.tail];
    const events = [...head, ...dataLines(Buffer.concat(end))];
    let usage: ExchangeUsage | undefined;
    let upstreamError = false;
    for (const event of events) {
      if (field(event, 'error') !== undefined || field(event, 'type') === 'error') upstreamError = true;
      if (this.upstreamFormat === 'openai-chat') {
        usage = fromOpenAIUsage(field(event, 'usage')) ?? usage;
        continue;
      }
      const type = field(event, 'type');
      const reported = type === 'message_start' ? fromAnthropicUsage(field(field(event, 'message'), 'usage')) : type === 'message_delta' ? fromAnthropicUsage(field(event, 'usage')) : undefined;
      if (reported === undefined) continue;
      // message_delta's counts are cumulative and win; message_start's fill what it lacks.
      usage = {
        inputTokens: reported.inputTokens ?? usage?.inputTokens,
        outputTokens: reported.outputTokens ?? usage?.outputTokens,
        cachedTokens: reported.cachedTokens ?? usage?.cachedTokens,
      };
    }
    return { usage, upstreamError };
  }
}

/**
 * The JSON `data:` lines of `bytes` that carry a usage object or an error, in stream order. Found
 * with `indexOf` rather than by splitting every line (a regex split of 8 KiB cost more than the
 * rest of the relay); `"usage":null` (on every OpenAI chunk with include_usage) is skipped without
 * parsing. A line cut at the window's edge fails to parse and is skipped.
 */
function dataLines(bytes: Buffer): unknown[] {
  if (bytes.length === 0) return [];
  const text = bytes.toString('utf8');
  const lineStarts = new Set<number>();
  for (const needle of ['"usage"', '"error"']) {
    for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
      if (needle === '"usage"' && /^\s*:\s*null/.test(text.slice(at + needle.length, at + needle.length + 12))) continue;
      lineStarts.add(text.lastIndexOf('\n', at) + 1);
    }
  }
  const found: unknown[] = [];
  for (const start of [...lineStarts].sort((left, right) => left - right)) {
    if (!text.startsWith('data:', start)) continue;
    const end = text.indexOf('\n', start);
    try {
      found.push(JSON.parse(text.slice(start + 5, end === -1 ? text.length : end)) as unknown);
    } catch {
      // the first or last line of a window may be a fragment
    }
  }
  return found;
}
