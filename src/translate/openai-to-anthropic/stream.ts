import type { OpenAIChatChunk, OpenAIChunkDelta, OpenAIFinishReason } from '../../formats/openai/chat-response.js';
import { scanAnthropicContentDelta } from '../../formats/anthropic/stream-event-scan.js';
import { parseSseJson, type SseEvent } from '../../formats/sse.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { mapAnthropicStopReason } from './response.js';
import {
  isRecord,
  readCount,
  readString,
  readTokenCounts,
  toChatCompletionId,
  toOpenAIUsage,
  type AnthropicTokenCounts,
} from './upstream-fields.js';

export interface AnthropicToOpenAIStreamContext {
  /**
   * The model name when the upstream reports none: the provider's model name. Answers carry the
   * name the upstream reports (docs/configuration.md, "Model names in answers").
   */
  model: string;
  /** Unix time in seconds, injected so the translator stays pure and tests deterministic. */
  created: number;
  /** The client's `stream_options.include_usage`: adds a final usage chunk (and `usage: null` before it). */
  includeUsage: boolean;
}

/** Everything the translator remembers between upstream events. */
export interface AnthropicToOpenAIStreamState {
  /** awaiting-start until message_start; stopped after message_stop (later events are ignored). */
  phase: 'awaiting-start' | 'streaming' | 'stopped';
  /** `chatcmpl-…`, fixed by the first chunk: every chunk of one completion carries the same id. */
  chunkId: string;
  /** Cumulative token counts: input (and cache) from message_start, output from message_delta. */
  tokens: Partial<AnthropicTokenCounts>;
  /** The model name every chunk reports: message_start's `message.model`, else the context's. */
  model: string;
  /** Anthropic content-block index → the OpenAI tool call it opened (0-based count of tool_use blocks). */
  toolCallByBlockIndex: Map<number, OpenToolCall>;
}

/** A tool_use block being streamed as an OpenAI tool call. */
interface OpenToolCall {
  /** OpenAI `tool_calls[].index`. */
  toolIndex: number;
  /** True once a non-empty argument piece went out; false at the block's end means arguments are still "". */
  argumentsSent: boolean;
  /** `content_block_start.input`: `{}` from Anthropic itself, a complete input from some proxies. */
  startInput: unknown;
  /** True once the block's arguments are complete (content_block_stop, or message_delta for a stream that skipped it). */
  closed: boolean;
}

export interface AnthropicToOpenAIStreamTranslator {
  /** One parsed upstream SSE event in, the OpenAI chunks it produces out (often none). */
  push(event: SseEvent): OpenAIChatChunk[];
  /** The upstream stream ended. Throws if it ended before message_stop. */
  flush(): OpenAIChatChunk[];
  /**
   * The stream failed: the chunks still held for the client. Always none here (every event is
   * translated as it arrives); the method exists so every stream translator can be drained alike.
   */
  abort(): OpenAIChatChunk[];
}

/** Event types this translator reads; anything else (ping, future types) is ignored. */
const knownEventTypes = new Set(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);

/**
 * Translates an Anthropic Messages SSE stream into OpenAI `chat.completion.chunk`s.
 *
 * Why it is strict about the ending: an Anthropic stream is complete only with `message_stop`.
 * A stream that just stops (connection cut, proxy timeout) would otherwise look to an OpenAI
 * client like a short but finished answer, so `flush()` throws GW_UPSTREAM_STREAM_FAILED, as does
 * an `event: error` (e.g. overloaded_error part-way). Its message is the upstream's; the caller
 * redacts it before writing it to the client. Thinking and server-tool blocks are dropped: an
 * OpenAI client has no place for them. A tool call's arguments always join to a JSON object: a
 * tool_use block without input_json_delta gets `{}` at its content_block_stop (see closeToolCall).
 */
export function createAnthropicToOpenAIStreamTranslator(context: AnthropicToOpenAIStreamContext): AnthropicToOpenAIStreamTranslator {
  const state: AnthropicToOpenAIStreamState = {
    phase: 'awaiting-start',
    chunkId: toChatCompletionId(undefined, context.created),
    tokens: {},
    model: context.model,
    toolCallByBlockIndex: new Map(),
  };

  const chunk = (delta: OpenAIChunkDelta, finishReason: OpenAIFinishReason | null = null): OpenAIChatChunk => {
    const result: OpenAIChatChunk = {
      id: state.chunkId,
      object: 'chat.completion.chunk',
      created: context.created,
      model: state.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    };
    // OpenAI sends `usage: null` on every chunk but the last when include_usage is on.
    if (context.includeUsage) result.usage = null;
    return result;
  };

  /** The role chunk. Content events before message_start (a lenient read) start the answer too. */
  const start = (upstreamId: string | undefined): OpenAIChatChunk[] => {
    if (state.phase !== 'awaiting-start') return [];
    state.phase = 'streaming';
    state.chunkId = toChatCompletionId(upstreamId, context.created);
    return [chunk({ role: 'assistant', content: '' })];
  };

  /**
   * A tool_use block ended. Anthropic streams a tool without parameters as `input: {}` and no
   * (or only empty) input_json_delta, which would leave the OpenAI client with `arguments: ""`,
   * not JSON: such a call gets its start input (`{}`, or the complete input a proxy put there).
   */
  const closeToolCall = (toolCall: OpenToolCall): OpenAIChatChunk[] => {
    if (toolCall.closed) return [];
    toolCall.closed = true;
    if (toolCall.argumentsSent) return [];
    const input = isRecord(toolCall.startInput) ? toolCall.startInput : {};
    return [chunk({ tool_calls: [{ index: toolCall.toolIndex, function: { arguments: JSON.stringify(input) } }] })];
  };

  const handlers: Record<string, (payload: Record<string, unknown>) => OpenAIChatChunk[]> = {
    message_start(payload) {
      const message = isRecord(payload['message']) ? payload['message'] : {};
      Object.assign(state.tokens, readTokenCounts(message['usage']));
      const reportedModel = readString(message, 'model');
      if (reportedModel !== undefined && reportedModel !== '' && state.phase === 'awaiting-start') state.model = reportedModel;
      return start(readString(message, 'id'));
    },
    content_block_start(payload) {
      const block = isRecord(payload['content_block']) ? payload['content_block'] : {};
      const type = readString(block, 'type');
      const chunks = start(undefined);
      if (type === 'text') {
        const text = readString(block, 'text') ?? '';
        if (text !== '') chunks.push(chunk({ content: text }));
      } else if (type === 'tool_use') {
        const blockIndex = readCount(payload, 'index');
        const toolIndex = state.toolCallByBlockIndex.size;
        if (blockIndex !== undefined) state.toolCallByBlockIndex.set(blockIndex, { toolIndex, argumentsSent: false, startInput: block['input'], closed: false });
        const id = readString(block, 'id') ?? '';
        const name = readString(block, 'name') ?? '';
        chunks.push(chunk({ tool_calls: [{ index: toolIndex, id, type: 'function', function: { name, arguments: '' } }] }));
      }
      return chunks;
    },
    content_block_delta(payload) {
      const delta = isRecord(payload['delta']) ? payload['delta'] : {};
      const type = readString(delta, 'type');
      const chunks = start(undefined);
      if (type === 'text_delta') {
        const text = readString(delta, 'text') ?? '';
        if (text !== '') chunks.push(chunk({ content: text }));
      } else if (type === 'input_json_delta') {
        const blockIndex = readCount(payload, 'index');
        // Deltas of blocks that are not client tool calls (server tools) have no OpenAI place.
        const toolCall = blockIndex === undefined ? undefined : state.toolCallByBlockIndex.get(blockIndex);
        const partialJson = readString(delta, 'partial_json') ?? '';
        if (toolCall !== undefined && !toolCall.closed && partialJson !== '') {
          toolCall.argumentsSent = true;
          chunks.push(chunk({ tool_calls: [{ index: toolCall.toolIndex, function: { arguments: partialJson } }] }));
        }
      }
      return chunks;
    },
    content_block_stop(payload) {
      const blockIndex = readCount(payload, 'index');
      const toolCall = blockIndex === undefined ? undefined : state.toolCallByBlockIndex.get(blockIndex);
      return toolCall === undefined ? [] : closeToolCall(toolCall);
    },
    message_delta(payload) {
      // Anthropic's message_delta usage is cumulative: later counts replace earlier ones.
      Object.assign(state.tokens, readTokenCounts(payload['usage']));
      const delta = isRecord(payload['delta']) ? payload['delta'] : {};
      const finishReason = mapAnthropicStopReason(readString(delta, 'stop_reason'));
      const chunks = start(undefined);
      // A lenient read: a block whose content_block_stop never came is complete by now.
      for (const toolCall of state.toolCallByBlockIndex.values()) chunks.push(...closeToolCall(toolCall));
      if (finishReason !== null) chunks.push(chunk({}, finishReason));
      return chunks;
    },
    message_stop() {
      state.phase = 'stopped';
      if (!context.includeUsage) return [];
      return [
        {
          id: state.chunkId,
          object: 'chat.completion.chunk',
          created: context.created,
          model: state.model,
          choices: [],
          usage: toOpenAIUsage(state.tokens),
        },
      ];
    },
  };

  return {
    push(event) {
      if (state.phase === 'stopped') return [];
      // A content delta (most of the stream) is read without JSON.parse, as JSON.parse would read it.
      const parsed = scanAnthropicContentDelta(event.data) ?? parseSseJson(event.data);
      const payload = isRecord(parsed) ? parsed : undefined;
      const type = (payload === undefined ? undefined : readString(payload, 'type')) ?? event.event;
      if (type === 'error' || event.event === 'error') throw upstreamStreamError(payload);
      if (type === undefined || !knownEventTypes.has(type)) return [];
      const handler = handlers[type];
      if (payload === undefined || handler === undefined) {
        throw new GatewayError('GW_UPSTREAM_STREAM_FAILED', { message: `upstream sent an unreadable ${type} event` });
      }
      return handler(payload);
    },
    flush() {
      if (state.phase !== 'stopped') {
        throw new GatewayError('GW_UPSTREAM_STREAM_FAILED', { message: 'upstream stream ended before message_stop' });
      }
      return [];
    },
    abort() {
      return [];
    },
  };
}

/** `event: error` → `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`. */
function upstreamStreamError(payload: Record<string, unknown> | undefined): GatewayError {
  const error = payload !== undefined && isRecord(payload['error']) ? payload['error'] : {};
  const message = readString(error, 'message') ?? `upstream stream error (${readString(error, 'type') ?? 'unknown type'})`;
  return new GatewayError('GW_UPSTREAM_STREAM_FAILED', { message, retryable: false });
}
