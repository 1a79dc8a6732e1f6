import type { OpenAIChatChunk, OpenAIChunkDelta, OpenAIFinishReason } from '../../formats/openai/chat-response.js';
import type { SseEvent } from '../../formats/sse.js';
import { scanGeminiTextChunk } from '../../formats/gemini/stream-chunk-scan.js';
import { geminiCallId, parseGeminiChunk, turnEnd, type GeminiUsageCounts } from '../../formats/gemini/upstream-answer.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { toOpenAIUsage } from './response.js';

export interface GeminiToOpenAIStreamContext {
  model: string;
  created: number;
  requestId: string;
  /** The client asked for `stream_options.include_usage`: a last chunk with usage and no choices. */
  includeUsage: boolean;
}

/** The translator's state between upstream chunks. */
export interface GeminiToOpenAIStreamState {
  id: string;
  model: string;
  /** The first chunk to the client carries `role: assistant`. */
  roleSent: boolean;
  /** Tool calls sent so far: the next call's index, and part of its id's seed. */
  callCount: number;
  usage: GeminiUsageCounts | undefined;
  /** finishReason seen: the finish chunk (and usage chunk) went out, later chunks are ignored. */
  finished: boolean;
}

export interface GeminiToOpenAIStreamTranslator {
  push(event: SseEvent): OpenAIChatChunk[];
  /** The upstream ended: GW_UPSTREAM_STREAM_FAILED when it never sent a finishReason. */
  flush(): OpenAIChatChunk[];
  abort(): OpenAIChatChunk[];
}

/**
 * Translates Gemini streamGenerateContent chunks (either framing, cut into events by
 * formats/gemini/stream-parser.ts) into OpenAI chat completion chunks: text → content deltas,
 * thoughts → `reasoning_content` deltas, each function call (Gemini sends it whole) → one tool call
 * delta with its whole arguments; the chunk with finishReason ends the turn (finish chunk, then the
 * usage chunk when asked for). Gemini's in-stream `error` is GW_UPSTREAM_STREAM_FAILED. Each event
 * is read once: a plain text chunk by formats/gemini/stream-chunk-scan.ts, any other by JSON.parse.
 * The bridge adds `data: [DONE]`.
 */
export function createGeminiToOpenAIStreamTranslator(context: GeminiToOpenAIStreamContext): GeminiToOpenAIStreamTranslator {
  const state: GeminiToOpenAIStreamState = { id: `chatcmpl-${context.requestId}`, model: context.model, roleSent: false, callCount: 0, usage: undefined, finished: false };
  const chunk = (delta: OpenAIChunkDelta & { reasoning_content?: string }, finishReason: OpenAIFinishReason | null = null): OpenAIChatChunk => {
    const withRole = state.roleSent ? delta : { role: 'assistant' as const, ...delta };
    state.roleSent = true;
    return { id: state.id, object: 'chat.completion.chunk', created: context.created, model: state.model, choices: [{ index: 0, delta: withRole, finish_reason: finishReason }] };
  };
  return {
    push(event) {
      if (state.finished || event.data.trim() === '') return [];
      const answer = scanGeminiTextChunk(event.data) ?? parseGeminiChunk(event.data);
      if (!state.roleSent && answer.responseId !== undefined) state.id = answer.responseId;
      if (answer.modelVersion !== undefined) state.model = answer.modelVersion;
      if (answer.usage !== undefined) state.usage = answer.usage;
      const output: OpenAIChatChunk[] = [];
      for (const part of answer.parts) {
        if (part.kind === 'text') output.push(chunk({ content: part.text }));
        else if (part.kind === 'thought') output.push(chunk({ reasoning_content: part.text }));
        else {
          const index = state.callCount++;
          const id = geminiCallId(answer.responseId ?? context.requestId, index, part.name, part.args, part.signature);
          output.push(chunk({ tool_calls: [{ index, id, type: 'function', function: { name: part.name, arguments: JSON.stringify(part.args) } }] }));
        }
      }
      if (answer.finishReason !== undefined) {
        state.finished = true;
        output.push(chunk({}, turnEnd(answer.finishReason, state.callCount > 0)));
        if (context.includeUsage && state.usage !== undefined) {
          output.push({ id: state.id, object: 'chat.completion.chunk', created: context.created, model: state.model, choices: [], usage: toOpenAIUsage(state.usage) });
        }
      }
      return output;
    },
    flush() {
      if (!state.finished) throw new GatewayError('GW_UPSTREAM_STREAM_FAILED', { message: 'The Gemini upstream stream ended before a finishReason.' });
      return [];
    },
    abort: () => [],
  };
}
