import { GatewayError } from '../../errors/gateway-error.js';
import { isRecord, type ResponsesAnswerContext, type ResponsesUsage } from '../../formats/responses/response-builder.js';
import { createResponsesStreamWriter, type ResponsesStreamEvent, type ResponsesStreamWriter } from '../../formats/responses/stream-writer.js';
import { createOpenAIContentChunkReader, type OpenAIContentChunkReader } from '../../formats/openai/stream-chunk-scan.js';
import type { SseEvent } from '../../formats/sse.js';
import { incompleteReasonOf, toResponsesUsage } from './response.js';
import { readOpenAIStreamChunk } from '../../formats/stream-payload.js';

/** The translator's state: tool calls gathered by index, sent whole at the end of the turn. */
export interface OpenAIToResponsesStreamState {
  writer: ResponsesStreamWriter;
  toolCalls: Map<number, { id: string | undefined; name: string; arguments: string }>;
  finishReason: string | undefined;
  usage: ResponsesUsage | null;
  modelSeen: boolean;
  /** Reads the plain content chunks without JSON.parse (formats/openai/stream-chunk-scan.ts); every other chunk is parsed. */
  contentChunks: OpenAIContentChunkReader;
}

export interface OpenAIToResponsesStreamTranslator {
  /** The event writer, for the bridge's `response.failed` after a failure (its sequence numbers continue). */
  readonly writer: ResponsesStreamWriter;
  push(event: SseEvent): ResponsesStreamEvent[];
  /** The upstream ended: the last events, or GW_UPSTREAM_STREAM_FAILED when it ended before a finish_reason. */
  flush(): ResponsesStreamEvent[];
  /** The stream failed: nothing more is released (a half-received call is not a call). */
  abort(): ResponsesStreamEvent[];
}

function streamFailed(message: string): GatewayError {
  return new GatewayError('GW_UPSTREAM_STREAM_FAILED', { message });
}

/**
 * Translates an OpenAI chat-completion stream into Responses events: text deltas stream live as
 * `response.output_text.delta`; tool-call deltas are gathered by index (some OpenAI-compatible
 * servers interleave parallel calls, and a Responses item must be complete before the next one
 * opens) and sent whole after the text, each as added → arguments delta → arguments done → item
 * done. `response.completed` waits for the usage chunk or `[DONE]` after the finish_reason.
 */
export function createOpenAIToResponsesStreamTranslator(context: ResponsesAnswerContext): OpenAIToResponsesStreamTranslator {
  const state: OpenAIToResponsesStreamState = {
    writer: createResponsesStreamWriter(context),
    toolCalls: new Map(),
    finishReason: undefined,
    usage: null,
    modelSeen: false,
    contentChunks: createOpenAIContentChunkReader(),
  };
  const { writer } = state;

  const finish = (): ResponsesStreamEvent[] => {
    const events = writer.closeItem();
    let index = 0;
    for (const call of state.toolCalls.values()) {
      events.push(...writer.functionCallStart(call.id ?? `call_${index}`, call.name), ...writer.functionCallArguments(call.arguments === '' ? '{}' : call.arguments), ...writer.closeItem());
      index++;
    }
    state.toolCalls.clear();
    events.push(...writer.finish(state.usage, incompleteReasonOf(state.finishReason)));
    return events;
  };

  const readChunk = (chunk: Record<string, unknown>): ResponsesStreamEvent[] => {
    if (!state.modelSeen && typeof chunk['model'] === 'string') {
      state.modelSeen = true;
      writer.setModel(chunk['model']);
    }
    const events = writer.start();
    const choice: unknown = Array.isArray(chunk['choices']) ? chunk['choices'][0] : undefined;
    if (isRecord(choice)) {
      const delta = isRecord(choice['delta']) ? choice['delta'] : {};
      if (typeof delta['content'] === 'string') events.push(...writer.text(delta['content']));
      if (Array.isArray(delta['tool_calls'])) for (const call of delta['tool_calls']) gatherToolCall(state, call);
      if (typeof choice['finish_reason'] === 'string') state.finishReason = choice['finish_reason'];
    }
    const usage = toResponsesUsage(chunk['usage']);
    if (usage !== null) {
      state.usage = usage;
      // The usage chunk follows the finish_reason: the turn is complete.
      if (state.finishReason !== undefined) events.push(...finish());
    }
    return events;
  };

  return {
    writer,
    push(event) {
      if (writer.state.finished) return [];
      // A plain content chunk: what readChunk does with it (no usage, no tool call; a finish_reason only recorded).
      const plain = state.contentChunks.read(event.data);
      if (plain !== undefined) {
        if (!state.modelSeen && plain.model !== undefined) {
          state.modelSeen = true;
          writer.setModel(plain.model);
        }
        const events = writer.start();
        events.push(...writer.text(plain.content));
        if (plain.finishReason !== undefined) state.finishReason = plain.finishReason;
        return events;
      }
      const chunk = readOpenAIStreamChunk(event);
      if (chunk === undefined) return [];
      if (chunk !== 'done') return readChunk(chunk);
      if (state.finishReason === undefined) throw streamFailed('upstream stream ended before finish');
      return finish();
    },
    flush() {
      if (writer.state.finished) return [];
      if (state.finishReason === undefined) throw streamFailed('upstream stream ended before finish');
      return finish();
    },
    abort: () => [],
  };
}

/** Held tool-call text at most (8 Mi characters, the SSE parser's bound for one event): a stream of endless argument deltas is a failure, not a growing buffer. */
const maxHeldArgumentsCharacters = 8 * 1024 * 1024;

function gatherToolCall(state: OpenAIToResponsesStreamState, call: unknown): void {
  if (!isRecord(call)) return;
  let heldTotal = 0;
  for (const held of state.toolCalls.values()) heldTotal += held.arguments.length;
  if (heldTotal > maxHeldArgumentsCharacters) throw streamFailed('upstream tool-call arguments exceed what the gateway holds (8 MiB)');
  const index = typeof call['index'] === 'number' ? call['index'] : 0;
  const fn = isRecord(call['function']) ? call['function'] : {};
  const held = state.toolCalls.get(index) ?? { id: undefined, name: '', arguments: '' };
  if (typeof call['id'] === 'string') held.id = call['id'];
  if (typeof fn['name'] === 'string') held.name += fn['name'];
  if (typeof fn['arguments'] === 'string') held.arguments += fn['arguments'];
  state.toolCalls.set(index, held);
}
