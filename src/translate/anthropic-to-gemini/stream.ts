import { GatewayError } from '../../errors/gateway-error.js';
import type { AnthropicStreamEvent } from '../../formats/anthropic/messages-response.js';
import type { SseEvent } from '../../formats/sse.js';
import { scanGeminiTextChunk } from '../../formats/gemini/stream-chunk-scan.js';
import { geminiCallId, parseGeminiChunk, type GeminiUsageCounts } from '../../formats/gemini/upstream-answer.js';
import { anthropicStopReason, messageId, toAnthropicUsage } from './response.js';

export interface GeminiToAnthropicStreamContext {
  model: string;
  requestId: string;
}

/** The translator's state between upstream chunks. */
export interface GeminiToAnthropicStreamState {
  started: boolean;
  /** The open content block (text or thinking run), or undefined between blocks. */
  openBlock: 'text' | 'thinking' | undefined;
  /** The index the next content block gets. */
  nextIndex: number;
  calls: number;
  usage: GeminiUsageCounts | undefined;
  finished: boolean;
}

export interface GeminiToAnthropicStreamTranslator {
  push(event: SseEvent): AnthropicStreamEvent[];
  /** The upstream ended: GW_UPSTREAM_STREAM_FAILED when it never sent a finishReason. */
  flush(): AnthropicStreamEvent[];
  abort(): AnthropicStreamEvent[];
}

/**
 * Translates Gemini streamGenerateContent chunks (either framing) into Anthropic Messages events:
 * `message_start` at the first chunk (with the prompt's token count when Gemini reports it), runs
 * of text or thought parts as one text or thinking block each, each function call (Gemini sends it
 * whole) as one tool_use block with its whole input in one `input_json_delta`, and at the chunk
 * with finishReason `message_delta` (stop_reason, usage) and `message_stop`. Gemini's in-stream
 * `error` is GW_UPSTREAM_STREAM_FAILED. Each event is read once (a plain text
 * chunk by formats/gemini/stream-chunk-scan.ts, any other by JSON.parse).
 */
export function createGeminiToAnthropicStreamTranslator(context: GeminiToAnthropicStreamContext): GeminiToAnthropicStreamTranslator {
  const state: GeminiToAnthropicStreamState = { started: false, openBlock: undefined, nextIndex: 0, calls: 0, usage: undefined, finished: false };

  const closeBlock = (into: AnthropicStreamEvent[]): void => {
    if (state.openBlock === undefined) return;
    into.push({ type: 'content_block_stop', index: state.nextIndex - 1 });
    state.openBlock = undefined;
  };
  const delta = (kind: 'text' | 'thinking', text: string, into: AnthropicStreamEvent[]): void => {
    if (state.openBlock !== kind) {
      closeBlock(into);
      into.push({ type: 'content_block_start', index: state.nextIndex++, content_block: kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '' } });
      state.openBlock = kind;
    }
    const index = state.nextIndex - 1;
    into.push({ type: 'content_block_delta', index, delta: kind === 'text' ? { type: 'text_delta', text } : { type: 'thinking_delta', thinking: text } });
  };

  return {
    push(event) {
      if (state.finished || event.data.trim() === '') return [];
      const answer = scanGeminiTextChunk(event.data) ?? parseGeminiChunk(event.data);
      if (answer.usage !== undefined) state.usage = answer.usage;
      const output: AnthropicStreamEvent[] = [];
      if (!state.started) {
        state.started = true;
        const usage = toAnthropicUsage(state.usage);
        output.push({
          type: 'message_start',
          message: { id: messageId(answer.responseId, context.requestId), type: 'message', role: 'assistant', model: answer.modelVersion ?? context.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 0 } },
        });
      }
      for (const part of answer.parts) {
        if (part.kind === 'text' || part.kind === 'thought') delta(part.kind === 'text' ? 'text' : 'thinking', part.text, output);
        else {
          closeBlock(output);
          const index = state.nextIndex++;
          const id = geminiCallId(answer.responseId ?? context.requestId, state.calls++, part.name, part.args, part.signature);
          output.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id, name: part.name, input: {} } });
          output.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(part.args) } });
          output.push({ type: 'content_block_stop', index });
        }
      }
      if (answer.finishReason !== undefined) {
        state.finished = true;
        closeBlock(output);
        const usage = toAnthropicUsage(state.usage);
        output.push({ type: 'message_delta', delta: { stop_reason: anthropicStopReason(answer.finishReason, state.calls > 0), stop_sequence: null }, usage });
        output.push({ type: 'message_stop' });
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
