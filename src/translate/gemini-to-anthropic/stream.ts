import type { GeminiFinishReason, GeminiGenerateContentResponse, GeminiResponsePart, GeminiUsageMetadata } from '../../formats/gemini/generate-content-response.js';
import type { SseEvent } from '../../formats/sse.js';
import { geminiResponse, isRecord, parseArguments, streamFailed } from '../../formats/gemini/response-builder.js';
import { mapAnthropicStopReason, toUsageMetadata } from './response.js';
import { scanAnthropicContentDelta } from '../../formats/anthropic/stream-event-scan.js';
import { readTypedStreamEvent } from '../../formats/stream-payload.js';

export interface AnthropicToGeminiStreamContext {
  /** The model name when the upstream reports none. */
  model: string;
}

/** The translator's state: a tool_use block is held until its block stops (Gemini sends each call whole). */
export interface AnthropicToGeminiStreamState {
  modelVersion: string;
  responseId: string | undefined;
  /** The open tool_use blocks by index: id, name and the JSON text of the input so far. */
  toolUses: Map<number, { id: string; name: string; inputJson: string }>;
  finishReason: GeminiFinishReason | undefined;
  /** message_start's usage, completed by message_delta's (cumulative) output count. */
  usage: Record<string, unknown>;
  stopped: boolean;
}

export interface AnthropicToGeminiStreamTranslator {
  push(event: SseEvent): GeminiGenerateContentResponse[];
  /** The upstream ended: GW_UPSTREAM_STREAM_FAILED unless message_stop came. */
  flush(): GeminiGenerateContentResponse[];
  /** The stream failed: a half-received tool call is not released. */
  abort(): GeminiGenerateContentResponse[];
}

/**
 * Translates an Anthropic Messages stream into Gemini streamGenerateContent chunks: a text delta is
 * one chunk with a text part, a thinking delta one with a `thought: true` part (its signature is
 * not passed on), a tool_use block one functionCall part (with the tool_use id) when the block
 * stops, and message_stop the last chunk with finishReason and usageMetadata. An `error` event or
 * an end before message_stop is GW_UPSTREAM_STREAM_FAILED. Each event is parsed once.
 */
export function createAnthropicToGeminiStreamTranslator(context: AnthropicToGeminiStreamContext): AnthropicToGeminiStreamTranslator {
  const state: AnthropicToGeminiStreamState = { modelVersion: context.model, responseId: undefined, toolUses: new Map(), finishReason: undefined, usage: {}, stopped: false };

  const chunk = (parts: GeminiResponsePart[], last = false, usageMetadata?: GeminiUsageMetadata): GeminiGenerateContentResponse =>
    geminiResponse({ parts, finishReason: last ? (state.finishReason ?? 'STOP') : undefined, modelVersion: state.modelVersion, usageMetadata, responseId: state.responseId });

  const read = (type: unknown, payload: Record<string, unknown>): GeminiGenerateContentResponse[] => {
    const index = typeof payload['index'] === 'number' ? payload['index'] : 0;
    switch (type) {
      case 'message_start': {
        const message = isRecord(payload['message']) ? payload['message'] : {};
        if (typeof message['model'] === 'string') state.modelVersion = message['model'];
        if (typeof message['id'] === 'string') state.responseId = message['id'];
        if (isRecord(message['usage'])) state.usage = { ...message['usage'] };
        return [];
      }
      case 'content_block_start': {
        const block = isRecord(payload['content_block']) ? payload['content_block'] : {};
        if (block['type'] === 'tool_use' && typeof block['name'] === 'string') {
          state.toolUses.set(index, { id: typeof block['id'] === 'string' ? block['id'] : '', name: block['name'], inputJson: '' });
        }
        return [];
      }
      case 'content_block_delta': {
        const delta = isRecord(payload['delta']) ? payload['delta'] : {};
        if (delta['type'] === 'text_delta' && typeof delta['text'] === 'string' && delta['text'] !== '') return [chunk([{ text: delta['text'] }])];
        if (delta['type'] === 'thinking_delta' && typeof delta['thinking'] === 'string' && delta['thinking'] !== '') return [chunk([{ text: delta['thinking'], thought: true }])];
        const toolUse = state.toolUses.get(index);
        if (delta['type'] === 'input_json_delta' && toolUse !== undefined && typeof delta['partial_json'] === 'string') toolUse.inputJson += delta['partial_json'];
        return [];
      }
      case 'content_block_stop': {
        const toolUse = state.toolUses.get(index);
        if (toolUse === undefined) return [];
        state.toolUses.delete(index);
        return [chunk([{ functionCall: { name: toolUse.name, args: parseArguments(toolUse.inputJson), ...(toolUse.id === '' ? {} : { id: toolUse.id }) } }])];
      }
      case 'message_delta': {
        const delta = isRecord(payload['delta']) ? payload['delta'] : {};
        state.finishReason = mapAnthropicStopReason(delta['stop_reason']) ?? state.finishReason;
        if (isRecord(payload['usage'])) state.usage = { ...state.usage, ...stripNulls(payload['usage']) };
        return [];
      }
      case 'message_stop':
        state.stopped = true;
        return [chunk([], true, toUsageMetadata(state.usage))];
      default:
        return []; // ping and future event types
    }
  };

  return {
    push(event) {
      if (state.stopped) return [];
      const typed = readTypedStreamEvent(event, true, scanAnthropicContentDelta);
      return typed === undefined ? [] : read(typed.type, typed.payload);
    },
    flush() {
      if (state.stopped) return [];
      throw streamFailed('upstream stream ended before message_stop');
    },
    abort: () => [],
  };
}

function stripNulls(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null && value !== undefined));
}
