import type { GeminiFinishReason, GeminiGenerateContentResponse, GeminiResponsePart, GeminiUsageMetadata } from '../../formats/gemini/generate-content-response.js';
import { createOpenAIContentChunkReader, type OpenAIContentChunkReader } from '../../formats/openai/stream-chunk-scan.js';
import type { SseEvent } from '../../formats/sse.js';
import { geminiResponse, isRecord, parseArguments, streamFailed } from '../../formats/gemini/response-builder.js';
import { mapOpenAIFinishReason, toUsageMetadata } from './response.js';
import { readOpenAIStreamChunk } from '../../formats/stream-payload.js';

export interface OpenAIToGeminiStreamContext {
  /** The model name when the upstream reports none. */
  model: string;
}

/** The translator's state: tool calls are held until the turn ends (Gemini sends each call whole). */
export interface OpenAIToGeminiStreamState {
  modelVersion: string;
  responseId: string | undefined;
  toolCalls: Map<number, { id: string | undefined; name: string; arguments: string }>;
  finishReason: GeminiFinishReason | undefined;
  usage: GeminiUsageMetadata | undefined;
  /** The last chunk (finishReason, held calls, usage) was emitted; later events are ignored. */
  stopped: boolean;
  /** Reads the plain content chunks without JSON.parse (formats/openai/stream-chunk-scan.ts); every other chunk is parsed. */
  contentChunks: OpenAIContentChunkReader;
}

export interface OpenAIToGeminiStreamTranslator {
  push(event: SseEvent): GeminiGenerateContentResponse[];
  /** The upstream ended: the last chunk, or GW_UPSTREAM_STREAM_FAILED when it ended before a finish_reason. */
  flush(): GeminiGenerateContentResponse[];
  /** The stream failed: nothing is released (a half-received function call is not a call). */
  abort(): GeminiGenerateContentResponse[];
}

/**
 * Translates an OpenAI chat-completion stream into Gemini streamGenerateContent chunks: each text
 * delta is one chunk with one text part; tool-call deltas are gathered by index and sent whole, as
 * functionCall parts (with the upstream's id), in the last chunk, which also carries finishReason and
 * usageMetadata. That chunk waits for the usage chunk or `[DONE]` (or the end, after a
 * finish_reason). Each upstream event is parsed once; nothing else is re-read.
 */
export function createOpenAIToGeminiStreamTranslator(context: OpenAIToGeminiStreamContext): OpenAIToGeminiStreamTranslator {
  const state: OpenAIToGeminiStreamState = {
    modelVersion: context.model,
    responseId: undefined,
    toolCalls: new Map(),
    finishReason: undefined,
    usage: undefined,
    stopped: false,
    contentChunks: createOpenAIContentChunkReader(),
  };

  const chunk = (parts: GeminiResponsePart[], last: boolean): GeminiGenerateContentResponse =>
    geminiResponse({ parts, finishReason: last ? state.finishReason : undefined, modelVersion: state.modelVersion, usageMetadata: last ? state.usage : undefined, responseId: state.responseId });

  const finish = (): GeminiGenerateContentResponse[] => {
    state.stopped = true;
    const parts: GeminiResponsePart[] = [...state.toolCalls.values()].map((call) => ({
      functionCall: { name: call.name, args: parseArguments(call.arguments), ...(call.id === undefined ? {} : { id: call.id }) },
    }));
    return [chunk(parts, true)];
  };

  const readChunk = (parsed: Record<string, unknown>): GeminiGenerateContentResponse[] => {
    if (typeof parsed['model'] === 'string') state.modelVersion = parsed['model'];
    if (typeof parsed['id'] === 'string') state.responseId = parsed['id'];
    const usage = toUsageMetadata(parsed['usage']);
    const choice: unknown = Array.isArray(parsed['choices']) ? parsed['choices'][0] : undefined;
    const output: GeminiGenerateContentResponse[] = [];
    if (isRecord(choice)) {
      const delta = choice['delta'];
      if (isRecord(delta)) {
        if (typeof delta['content'] === 'string' && delta['content'] !== '') output.push(chunk([{ text: delta['content'] }], false));
        if (Array.isArray(delta['tool_calls'])) for (const call of delta['tool_calls']) gatherToolCall(state, call);
      }
      state.finishReason = mapOpenAIFinishReason(choice['finish_reason']) ?? state.finishReason;
    }
    if (usage !== undefined) {
      state.usage = usage;
      // The usage chunk comes after the finish_reason: the turn is complete.
      if (state.finishReason !== undefined) output.push(...finish());
    }
    return output;
  };

  return {
    push(event) {
      if (state.stopped) return [];
      // A plain content chunk: what readChunk does with it (no usage, no tool call; a finish_reason only recorded).
      const plain = state.contentChunks.read(event.data);
      if (plain !== undefined) {
        if (plain.model !== undefined) state.modelVersion = plain.model;
        if (plain.id !== undefined) state.responseId = plain.id;
        const output = plain.content === '' ? [] : [chunk([{ text: plain.content }], false)];
        if (plain.finishReason !== undefined) state.finishReason = mapOpenAIFinishReason(plain.finishReason) ?? state.finishReason;
        return output;
      }
      const parsed = readOpenAIStreamChunk(event);
      if (parsed === undefined) return [];
      if (parsed !== 'done') return readChunk(parsed);
      if (state.finishReason === undefined) throw streamFailed('upstream stream ended before finish');
      return finish();
    },
    flush() {
      if (state.stopped) return [];
      if (state.finishReason === undefined) throw streamFailed('upstream stream ended before finish');
      return finish();
    },
    abort: () => [],
  };
}

function gatherToolCall(state: OpenAIToGeminiStreamState, call: unknown): void {
  if (!isRecord(call)) return;
  const index = typeof call['index'] === 'number' ? call['index'] : 0;
  const fn = isRecord(call['function']) ? call['function'] : {};
  const held = state.toolCalls.get(index) ?? { id: undefined, name: '', arguments: '' };
  if (typeof call['id'] === 'string') held.id = call['id'];
  if (typeof fn['name'] === 'string') held.name += fn['name'];
  if (typeof fn['arguments'] === 'string') held.arguments += fn['arguments'];
  state.toolCalls.set(index, held);
}
