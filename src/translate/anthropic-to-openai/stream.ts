import type { AnthropicStopReason, AnthropicStreamEvent } from '../../formats/anthropic/messages-response.js';
import type { SseEvent } from '../../formats/sse.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { estimatedBytesPerToken } from './estimate-tokens.js';
import { finalStopReason } from './response.js';
import { isRecord, readCount, readRecord, readString, readUpstreamUsage, type UpstreamTokenCounts } from './upstream-fields.js';

export interface OpenAIToAnthropicStreamContext {
  /** The model name the client asked for (its alias), not the upstream's model id. */
  model: string;
  /** `msg_…`, injected so the translator stays pure and tests deterministic. */
  messageId: string;
  /** From estimateAnthropicInputTokens: message_start must carry a count before the upstream reports one. */
  estimatedInputTokens: number;
}

/** The Anthropic content block currently open (Anthropic streams one block at a time). */
type OpenBlock = { kind: 'text'; index: number } | { kind: 'tool_use'; index: number; upstreamToolIndex: number };

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
  /** OpenAI `tool_calls[].index` → the Anthropic block index it opened. */
  blockIndexByToolIndex: Map<number, number>;
  /** Tool call ids seen, for servers that omit `index` (id → upstream tool index). */
  toolIndexById: Map<string, number>;
  /** The raw finish_reason, once a chunk carried one. */
  finishReason: string | undefined;
  /** The last usage the upstream reported (include_usage sends it after the finish chunk). */
  usage: UpstreamTokenCounts | undefined;
  /** UTF-8 bytes of text and arguments forwarded (a counter, not a buffer: memory stays bounded), for an output estimate when the upstream sends no usage. */
  generatedBytes: number;
}

export interface OpenAIToAnthropicStreamTranslator {
  /** One parsed upstream SSE event in, the Anthropic events it completes out (often none). */
  push(event: SseEvent): AnthropicStreamEvent[];
  /** The upstream stream ended. Throws if it ended before a finish_reason or [DONE]. */
  flush(): AnthropicStreamEvent[];
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
 *   call becomes its own tool_use block; argument pieces pass through as input_json_delta
 *   unchanged, so their concatenation is exactly the upstream's arguments. A server that
 *   interleaves two calls' arguments cannot be expressed as sequential Anthropic blocks and
 *   fails the stream rather than corrupting either call.
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
    blockIndexByToolIndex: new Map(),
    toolIndexById: new Map(),
    finishReason: undefined,
    usage: undefined,
    generatedBytes: 0,
  };
  const toolIdPrefix = `toolu_${context.messageId.replace(/^msg_/, '')}_`;

  function start(): AnthropicStreamEvent[] {
    if (state.phase !== 'awaiting-start') return [];
    state.phase = 'streaming';
    return [
      {
        type: 'message_start',
        message: {
          id: context.messageId,
          type: 'message',
          role: 'assistant',
          model: context.model,
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

  function pushText(text: string, into: AnthropicStreamEvent[]): void {
    if (text === '') return;
    if (state.openBlock?.kind !== 'text') {
      closeBlock(into);
      state.openBlock = { kind: 'text', index: state.nextBlockIndex++ };
      into.push({ type: 'content_block_start', index: state.openBlock.index, content_block: { type: 'text', text: '' } });
    }
    state.generatedBytes += Buffer.byteLength(text, 'utf8');
    into.push({ type: 'content_block_delta', index: state.openBlock.index, delta: { type: 'text_delta', text } });
  }

  /** The upstream tool index of a delta; servers that omit `index` are matched by id, else the open call. */
  function toolIndexOf(call: Record<string, unknown>): number {
    const index = readCount(call, 'index');
    if (index !== undefined) return index;
    const id = readString(call, 'id');
    if (id !== undefined && id !== '') {
      const known = state.toolIndexById.get(id);
      if (known !== undefined) return known;
      return state.blockIndexByToolIndex.size;
    }
    return state.openBlock?.kind === 'tool_use' ? state.openBlock.upstreamToolIndex : 0;
  }

  function pushToolCall(call: Record<string, unknown>, into: AnthropicStreamEvent[]): void {
    const toolIndex = toolIndexOf(call);
    const fields = readRecord(call, 'function') ?? {};
    const blockIndex = state.blockIndexByToolIndex.get(toolIndex);
    if (blockIndex === undefined) {
      closeBlock(into);
      const index = state.nextBlockIndex++;
      const upstreamId = readString(call, 'id');
      const id = upstreamId === undefined || upstreamId === '' ? `${toolIdPrefix}${toolIndex}` : upstreamId;
      state.blockIndexByToolIndex.set(toolIndex, index);
      state.toolIndexById.set(id, toolIndex);
      state.openBlock = { kind: 'tool_use', index, upstreamToolIndex: toolIndex };
      const name = readString(fields, 'name') ?? '';
      into.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id, name, input: {} } });
    } else if (state.openBlock?.index !== blockIndex) {
      throw streamFailed(`upstream interleaved the arguments of parallel tool calls (tool call ${toolIndex} resumed after another began)`);
    }
    const argumentsPiece = readString(fields, 'arguments') ?? '';
    if (argumentsPiece === '' || state.openBlock === undefined) return;
    state.generatedBytes += Buffer.byteLength(argumentsPiece, 'utf8');
    into.push({ type: 'content_block_delta', index: state.openBlock.index, delta: { type: 'input_json_delta', partial_json: argumentsPiece } });
  }

  function readChunk(chunk: Record<string, unknown>): AnthropicStreamEvent[] {
    const events = start();
    const usage = readUpstreamUsage(chunk['usage']);
    if (usage !== undefined) state.usage = usage;
    const choices = Array.isArray(chunk['choices']) ? (chunk['choices'] as unknown[]) : [];
    // Only choice 0 exists: the gateway never asks for n > 1.
    const choice = choices.find((candidate) => isRecord(candidate) && (readCount(candidate, 'index') ?? 0) === 0);
    if (!isRecord(choice)) return events;
    const delta = readRecord(choice, 'delta') ?? {};
    const content = delta['content'];
    if (typeof content === 'string') pushText(content, events);
    const refusal = readString(delta, 'refusal');
    if (refusal !== undefined) pushText(refusal, events);
    if (Array.isArray(delta['tool_calls'])) {
      for (const call of delta['tool_calls'] as unknown[]) if (isRecord(call)) pushToolCall(call, events);
    }
    const finishReason = readString(choice, 'finish_reason');
    if (finishReason !== undefined) {
      state.finishReason = finishReason;
      state.phase = 'finished';
      closeBlock(events);
    }
    return events;
  }

  /** message_delta + message_stop, closing an open block first. */
  function finish(): AnthropicStreamEvent[] {
    const events = start();
    closeBlock(events);
    const stopReason: AnthropicStopReason = finalStopReason(state.finishReason, state.blockIndexByToolIndex.size > 0);
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
      const data = event.data.trim();
      if (data === '') return [];
      if (data === '[DONE]') return finish();
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        throw streamFailed('upstream sent a stream chunk that is not JSON');
      }
      if (!isRecord(parsed)) throw streamFailed('upstream sent a stream chunk that is not a JSON object');
      const error = parsed['error'];
      if (error !== undefined && error !== null) {
        const message = isRecord(error) ? readString(error, 'message') : typeof error === 'string' ? error : undefined;
        throw streamFailed(message ?? 'upstream reported an error mid-stream');
      }
      return readChunk(parsed);
    },
    flush() {
      if (state.phase === 'stopped') return [];
      if (state.phase !== 'finished') throw streamFailed('upstream stream ended before finish');
      return finish();
    },
  };
}
