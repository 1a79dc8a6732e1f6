import type { AnthropicStopReason, AnthropicStreamEvent } from '../../formats/anthropic/messages-response.js';
import { createOpenAIContentChunkReader, type OpenAIContentChunkReader } from '../../formats/openai/stream-chunk-scan.js';
import type { SseEvent } from '../../formats/sse.js';
import { readOpenAIStreamChunk } from '../../formats/stream-payload.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { estimatedBytesPerToken } from './estimate-tokens.js';
import { finalStopReason } from './response.js';
import { isRecord, readCount, readRecord, readString, readUpstreamUsage, type UpstreamTokenCounts } from './upstream-fields.js';

export interface OpenAIToAnthropicStreamContext {
  /**
   * The model name when the upstream reports none: the provider's model name. Answers carry the
   * name the upstream reports (docs/configuration.md, "Model names in answers").
   */
  model: string;
  /** `msg_…`, injected so the translator stays pure and tests deterministic. */
  messageId: string;
  /** From estimateAnthropicInputTokens: message_start must carry a count before the upstream reports one. */
  estimatedInputTokens: number;
}

/** The Anthropic content block currently open (Anthropic streams one block at a time). */
type OpenBlock = { kind: 'text'; index: number } | { kind: 'tool_use'; index: number; upstreamToolIndex: number };

/**
 * One upstream tool call. `live`: streamed as it arrives, in the open block. `held`: collected
 * until the live call is known complete (finish_reason), then sent as one complete block. `sent`:
 * its block is closed; a later delta (a server bug) is dropped rather than reopening a block.
 */
type ToolCallEntry = { kind: 'live' } | { kind: 'held'; id: string; name: string; argumentsText: string } | { kind: 'sent' };

/**
 * 8 MiB: what the translator holds at most (text and arguments waiting behind a live tool call).
 * Real interleaved calls hold a few KiB; past this the upstream is broken or hostile.
 */
export const maxHeldBytes = 8 * 1024 * 1024;

/** Everything the translator remembers between upstream chunks. */
export interface OpenAIToAnthropicStreamState {
  /**
   * awaiting-start: nothing sent yet. streaming: message_start sent. finished: finish_reason seen,
   * waiting for the usage chunk and [DONE]. stopped: message_stop sent; later events are ignored.
   */
  phase: 'awaiting-start' | 'streaming' | 'finished' | 'stopped';
  openBlock: OpenBlock | undefined;
  /** Anthropic content-block index of the next block (0-based, counts every block opened). */
  nextBlockIndex: number;
  /** OpenAI `tool_calls[].index` → that call, live or held. */
  toolCalls: Map<number, ToolCallEntry>;
  /** Tool call ids seen, for servers that omit `index` (id → upstream tool index). */
  toolIndexById: Map<string, number>;
  /** The upstream index of the last tool call a delta named, for servers that omit both index and id. */
  lastToolIndex: number | undefined;
  /** Text that arrived while a live tool call was open; it follows that call's block. */
  heldText: string;
  /** UTF-8 bytes of heldText and every held call's arguments (bounded by maxHeldBytes). */
  heldBytes: number;
  /** The raw finish_reason, once a chunk carried one. */
  finishReason: string | undefined;
  /** The last usage the upstream reported (include_usage sends it after the finish chunk). */
  usage: UpstreamTokenCounts | undefined;
  /** UTF-8 bytes of text and arguments forwarded (a counter, not a buffer: memory stays bounded), for an output estimate when the upstream sends no usage. */
  generatedBytes: number;
  /** Reads the plain content chunks without JSON.parse (formats/openai/stream-chunk-scan.ts); every other chunk is parsed. */
  contentChunks: OpenAIContentChunkReader;
}

export interface OpenAIToAnthropicStreamTranslator {
  /** One parsed upstream SSE event in, the Anthropic events it completes out (often none). */
  push(event: SseEvent): AnthropicStreamEvent[];
  /** The upstream stream ended. Throws if it ended before a finish_reason or [DONE]. */
  flush(): AnthropicStreamEvent[];
  /**
   * The stream failed (a push or flush threw, or the upstream connection broke): the events the
   * translator still holds (text and tool calls waiting behind a live tool call), so the client
   * gets everything received before the failure, then the error. No message_delta or message_stop.
   */
  abort(): AnthropicStreamEvent[];
}

/**
 * Choice 0 of a chunk (the gateway never asks for n > 1), found by a plain loop: this runs for every
 * chunk of every translated stream, where a closure per call showed in the profile.
 */
function firstChoice(choices: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(choices)) return undefined;
  for (const candidate of choices as unknown[]) {
    if (isRecord(candidate) && (readCount(candidate, 'index') ?? 0) === 0) return candidate;
  }
  return undefined;
}

function streamFailed(message: string): GatewayError {
  return new GatewayError('GW_UPSTREAM_STREAM_FAILED', { message });
}

/**
 * Translates an OpenAI chat-completion SSE stream (unnamed `data:` chunks, `data: [DONE]` last)
 * into Anthropic Messages events: message_start, then for each block content_block_start /
 * content_block_delta / content_block_stop, then message_delta and message_stop.
 *
 * Upstream quirks handled:
 * - With include_usage the finish chunk comes BEFORE the usage chunk (`choices: []`), so
 *   message_delta waits for `[DONE]` (or flush() after a finish_reason when a server omits [DONE]).
 * - Tool-call deltas carry `index`; `id` and `function.name` only on a call's first delta. Each
 *   call becomes its own tool_use block. Anthropic blocks are sequential while some servers
 *   (vLLM, llama.cpp-style parallel calls) interleave several calls' argument deltas by index, and
 *   a call is only known complete at finish_reason. So the first call (index 0) streams live, its
 *   argument pieces passed through unchanged as input_json_delta; later calls, and text that
 *   arrives while it is open, are held (bounded by maxHeldBytes) and follow at finish_reason as
 *   complete blocks in index order. Concatenated partial_json is exactly the upstream's arguments.
 * - `{"error":{…}}` mid-stream (vLLM, LiteLLM, OpenAI itself) and a stream that ends without a
 *   finish_reason or [DONE] both throw GW_UPSTREAM_STREAM_FAILED: a cut stream must not look like
 *   a short but finished answer. The upstream message is passed on; the caller redacts it.
 * - No usage at all: message_delta carries an output estimate (ceil(UTF-8 bytes / 4) of what was
 *   streamed) and no input_tokens, so the client keeps message_start's estimate.
 */
export function createOpenAIToAnthropicStreamTranslator(context: OpenAIToAnthropicStreamContext): OpenAIToAnthropicStreamTranslator {
  const state: OpenAIToAnthropicStreamState = {
    phase: 'awaiting-start',
    openBlock: undefined,
    nextBlockIndex: 0,
    toolCalls: new Map(),
    toolIndexById: new Map(),
    lastToolIndex: undefined,
    heldText: '',
    heldBytes: 0,
    finishReason: undefined,
    usage: undefined,
    generatedBytes: 0,
    contentChunks: createOpenAIContentChunkReader(),
  };
  const toolIdPrefix = `toolu_${context.messageId.replace(/^msg_/, '')}_`;

  /** message_start, once; `reportedModel` is the first chunk's `model`, the name the upstream reports. */
  function start(reportedModel?: string): AnthropicStreamEvent[] {
    if (state.phase !== 'awaiting-start') return [];
    state.phase = 'streaming';
    return [
      {
        type: 'message_start',
        message: {
          id: context.messageId,
          type: 'message',
          role: 'assistant',
          model: reportedModel === undefined || reportedModel === '' ? context.model : reportedModel,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: context.estimatedInputTokens, output_tokens: 0 },
        },
      },
    ];
  }

  function closeBlock(into: AnthropicStreamEvent[]): void {
    if (state.openBlock === undefined) return;
    into.push({ type: 'content_block_stop', index: state.openBlock.index });
    state.openBlock = undefined;
  }

  function hold(bytes: number): void {
    state.heldBytes += bytes;
    if (state.heldBytes > maxHeldBytes) throw streamFailed('upstream sent more than 8 MiB of text and tool-call arguments behind an unfinished tool call');
  }

  function pushText(text: string, into: AnthropicStreamEvent[]): void {
    if (text === '') return;
    if (state.openBlock?.kind === 'tool_use') {
      // The live call may resume after this text: the text waits until the call is complete.
      const bytes = Buffer.byteLength(text, 'utf8');
      state.generatedBytes += bytes;
      hold(bytes);
      state.heldText += text;
      return;
    }
    if (state.openBlock?.kind !== 'text') {
      closeBlock(into);
      state.openBlock = { kind: 'text', index: state.nextBlockIndex++ };
      into.push({ type: 'content_block_start', index: state.openBlock.index, content_block: { type: 'text', text: '' } });
    }
    state.generatedBytes += Buffer.byteLength(text, 'utf8');
    into.push({ type: 'content_block_delta', index: state.openBlock.index, delta: { type: 'text_delta', text } });
  }

  /** The upstream tool index of a delta; servers that omit `index` are matched by id, else the last call named. */
  function toolIndexOf(call: Record<string, unknown>): number {
    const index = readCount(call, 'index');
    if (index !== undefined) return index;
    const id = readString(call, 'id');
    if (id !== undefined && id !== '') return state.toolIndexById.get(id) ?? state.toolCalls.size;
    return state.lastToolIndex ?? 0;
  }

  function pushToolCall(call: Record<string, unknown>, into: AnthropicStreamEvent[]): void {
    const toolIndex = toolIndexOf(call);
    state.lastToolIndex = toolIndex;
    const fields = readRecord(call, 'function') ?? {};
    let entry = state.toolCalls.get(toolIndex);
    if (entry === undefined) {
      const upstreamId = readString(call, 'id');
      const id = upstreamId === undefined || upstreamId === '' ? `${toolIdPrefix}${toolIndex}` : upstreamId;
      const name = readString(fields, 'name') ?? '';
      state.toolIndexById.set(id, toolIndex);
      // Only index 0 can stream live: it is first in index order, whatever follows.
      if (state.toolCalls.size === 0 && toolIndex === 0) {
        closeBlock(into);
        const index = state.nextBlockIndex++;
        state.openBlock = { kind: 'tool_use', index, upstreamToolIndex: toolIndex };
        entry = { kind: 'live' };
        into.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id, name, input: {} } });
      } else {
        entry = { kind: 'held', id, name, argumentsText: '' };
      }
      state.toolCalls.set(toolIndex, entry);
    }
    const argumentsPiece = readString(fields, 'arguments') ?? '';
    if (argumentsPiece === '') return;
    const bytes = Buffer.byteLength(argumentsPiece, 'utf8');
    state.generatedBytes += bytes;
    if (entry.kind === 'held') {
      hold(bytes);
      entry.argumentsText += argumentsPiece;
    } else if (entry.kind === 'live' && state.openBlock?.kind === 'tool_use') {
      into.push({ type: 'content_block_delta', index: state.openBlock.index, delta: { type: 'input_json_delta', partial_json: argumentsPiece } });
    }
  }

  /** Closes the open block, then sends what was held: the text, then each held call complete, in index order. */
  function release(into: AnthropicStreamEvent[]): void {
    closeBlock(into);
    if (state.heldText !== '') {
      const index = state.nextBlockIndex++;
      into.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      into.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: state.heldText } });
      into.push({ type: 'content_block_stop', index });
      state.heldText = '';
    }
    const calls = [...state.toolCalls.entries()].sort(([left], [right]) => left - right);
    for (const [toolIndex, entry] of calls) {
      state.toolCalls.set(toolIndex, { kind: 'sent' });
      if (entry.kind !== 'held') continue;
      const index = state.nextBlockIndex++;
      into.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: entry.id, name: entry.name, input: {} } });
      if (entry.argumentsText !== '') {
        into.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: entry.argumentsText } });
      }
      into.push({ type: 'content_block_stop', index });
    }
    state.heldBytes = 0;
  }

  function readChunk(chunk: Record<string, unknown>): AnthropicStreamEvent[] {
    const events = start(readString(chunk, 'model'));
    const usage = readUpstreamUsage(chunk['usage']);
    if (usage !== undefined) state.usage = usage;
    const choice = firstChoice(chunk['choices']);
    if (choice === undefined) return events;
    const delta = readRecord(choice, 'delta');
    if (delta !== undefined) {
      const content = delta['content'];
      if (typeof content === 'string') pushText(content, events);
      const refusal = readString(delta, 'refusal');
      if (refusal !== undefined) pushText(refusal, events);
      if (Array.isArray(delta['tool_calls'])) {
        for (const call of delta['tool_calls'] as unknown[]) if (isRecord(call)) pushToolCall(call, events);
      }
    }
    const finishReason = readString(choice, 'finish_reason');
    if (finishReason !== undefined) finishTurn(finishReason, events);
    return events;
  }

  /** A finish_reason: the turn's content is complete, so what was held is released. */
  function finishTurn(finishReason: string, into: AnthropicStreamEvent[]): void {
    state.finishReason = finishReason;
    state.phase = 'finished';
    release(into);
  }

  /** message_delta + message_stop, closing an open block first. */
  function finish(): AnthropicStreamEvent[] {
    const events = start();
    release(events);
    const stopReason: AnthropicStopReason = finalStopReason(state.finishReason, state.toolCalls.size > 0);
    const usage: Extract<AnthropicStreamEvent, { type: 'message_delta' }>['usage'] =
      state.usage === undefined
        ? { output_tokens: Math.ceil(state.generatedBytes / estimatedBytesPerToken) }
        : {
            output_tokens: state.usage.outputTokens,
            input_tokens: state.usage.inputTokens,
            cache_read_input_tokens: state.usage.cacheReadInputTokens,
          };
    events.push({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage });
    events.push({ type: 'message_stop' });
    state.phase = 'stopped';
    return events;
  }

  return {
    push(event) {
      if (state.phase === 'stopped') return [];
      // A plain content chunk: what readChunk does with it (no usage, no tool call, no refusal).
      const plain = state.contentChunks.read(event.data);
      if (plain !== undefined) {
        const events = start(plain.model);
        pushText(plain.content, events);
        if (plain.finishReason !== undefined) finishTurn(plain.finishReason, events);
        return events;
      }
      const chunk = readOpenAIStreamChunk(event);
      if (chunk === undefined) return [];
      return chunk === 'done' ? finish() : readChunk(chunk);
    },
    flush() {
      if (state.phase === 'stopped') return [];
      if (state.phase !== 'finished') throw streamFailed('upstream stream ended before finish');
      return finish();
    },
    abort() {
      const holdsSomething = state.heldText !== '' || [...state.toolCalls.values()].some((entry) => entry.kind === 'held');
      // Nothing held: the open block stays open, as when Anthropic itself fails part-way.
      if (!holdsSomething) return [];
      const events: AnthropicStreamEvent[] = [];
      release(events);
      return events;
    },
  };
}
