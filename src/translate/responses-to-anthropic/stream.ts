import { GatewayError } from '../../errors/gateway-error.js';
import { isRecord, type ResponsesAnswerContext } from '../../formats/responses/response-builder.js';
import { createResponsesStreamWriter, type ResponsesStreamEvent, type ResponsesStreamWriter } from '../../formats/responses/stream-writer.js';
import type { SseEvent } from '../../formats/sse.js';
import { incompleteReasonOf, toResponsesUsage } from './response.js';
import { scanAnthropicContentDelta } from '../../formats/anthropic/stream-event-scan.js';
import { readTypedStreamEvent } from '../../formats/stream-payload.js';

/** The translator's state: which Anthropic block indexes are tool_use blocks, the stop reason and usage so far. */
export interface AnthropicToResponsesStreamState {
  writer: ResponsesStreamWriter;
  toolUseIndexes: Set<number>;
  stopReason: unknown;
  /** message_start's usage, completed by message_delta's (cumulative) counts. */
  usage: Record<string, unknown> | undefined;
}

export interface AnthropicToResponsesStreamTranslator {
  /** The event writer, for the bridge's `response.failed` after a failure (its sequence numbers continue). */
  readonly writer: ResponsesStreamWriter;
  push(event: SseEvent): ResponsesStreamEvent[];
  /** The upstream ended: GW_UPSTREAM_STREAM_FAILED unless message_stop came. */
  flush(): ResponsesStreamEvent[];
  abort(): ResponsesStreamEvent[];
}

function streamFailed(message: string): GatewayError {
  return new GatewayError('GW_UPSTREAM_STREAM_FAILED', { message });
}

/**
 * Translates an Anthropic Messages stream into Responses events, live: Anthropic blocks are
 * sequential, so a text block streams as a message item (`response.output_text.delta`) and a
 * tool_use block as a function_call item (`response.function_call_arguments.delta` from
 * input_json_delta), each closed at its content_block_stop. Thinking deltas are not passed on.
 * message_stop sends `response.completed` (or `response.incomplete` for max_tokens) with the usage;
 * an `error` event or an end before message_stop is GW_UPSTREAM_STREAM_FAILED. Each event is parsed once.
 */
export function createAnthropicToResponsesStreamTranslator(context: ResponsesAnswerContext): AnthropicToResponsesStreamTranslator {
  const state: AnthropicToResponsesStreamState = { writer: createResponsesStreamWriter(context), toolUseIndexes: new Set(), stopReason: undefined, usage: undefined };
  const { writer } = state;

  const read = (type: unknown, payload: Record<string, unknown>): ResponsesStreamEvent[] => {
    const index = typeof payload['index'] === 'number' ? payload['index'] : 0;
    switch (type) {
      case 'message_start': {
        const message = isRecord(payload['message']) ? payload['message'] : {};
        if (typeof message['model'] === 'string') writer.setModel(message['model']);
        if (isRecord(message['usage'])) state.usage = { ...message['usage'] };
        return writer.start();
      }
      case 'content_block_start': {
        const block = isRecord(payload['content_block']) ? payload['content_block'] : {};
        if (block['type'] !== 'tool_use' || typeof block['name'] !== 'string') return [];
        state.toolUseIndexes.add(index);
        return writer.functionCallStart(typeof block['id'] === 'string' ? block['id'] : `toolu_${index}`, block['name']);
      }
      case 'content_block_delta': {
        const delta = isRecord(payload['delta']) ? payload['delta'] : {};
        if (delta['type'] === 'text_delta' && typeof delta['text'] === 'string') return writer.text(delta['text']);
        if (delta['type'] === 'input_json_delta' && typeof delta['partial_json'] === 'string' && state.toolUseIndexes.has(index)) return writer.functionCallArguments(delta['partial_json']);
        return [];
      }
      case 'content_block_stop':
        return state.toolUseIndexes.has(index) || writer.state.open?.kind === 'message' ? writer.closeItem() : [];
      case 'message_delta': {
        const delta = isRecord(payload['delta']) ? payload['delta'] : {};
        if (delta['stop_reason'] !== undefined && delta['stop_reason'] !== null) state.stopReason = delta['stop_reason'];
        if (isRecord(payload['usage'])) state.usage = { ...state.usage, ...withoutNulls(payload['usage']) };
        return [];
      }
      case 'message_stop':
        return writer.finish(toResponsesUsage(state.usage), incompleteReasonOf(state.stopReason));
      default:
        return []; // ping and future event types
    }
  };

  return {
    writer,
    push(event) {
      if (writer.state.finished) return [];
      const typed = readTypedStreamEvent(event, true, scanAnthropicContentDelta);
      return typed === undefined ? [] : read(typed.type, typed.payload);
    },
    flush() {
      if (writer.state.finished) return [];
      throw streamFailed('upstream stream ended before message_stop');
    },
    abort: () => [],
  };
}

function withoutNulls(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null && value !== undefined));
}
