import { GatewayError } from '../../errors/gateway-error.js';
import { isRecord } from '../../formats/responses/response-builder.js';
import type { SseEvent } from '../../formats/sse.js';
import { completionIdOf, finishReasonOf, toChatUsage, type ResponsesToOpenAIAnswerContext } from './response.js';
import { scanResponsesTextDelta } from '../../formats/responses/stream-event-scan.js';
import { readTypedStreamEvent, typeWrittenFirst } from '../../formats/stream-payload.js';

export interface ResponsesToOpenAIStreamContext extends ResponsesToOpenAIAnswerContext {
  /** The client asked for `stream_options.include_usage`: a usage chunk (empty choices) after the finish. */
  includeUsage: boolean;
}

/** The translator's state: the chunk fields fixed at response.created, and the tool calls by item id. */
export interface ResponsesToOpenAIStreamState {
  id: string;
  model: string;
  created: number;
  /** Tool calls in the order their items were added: chat index, and the argument text sent so far. */
  toolCalls: Map<string, { index: number; sent: string }>;
  finished: boolean;
}

export interface ResponsesToOpenAIStreamTranslator {
  push(event: SseEvent): Record<string, unknown>[];
  /** The upstream ended: GW_UPSTREAM_STREAM_FAILED unless response.completed (or incomplete) came. */
  flush(): Record<string, unknown>[];
  abort(): Record<string, unknown>[];
}

/**
 * Events this translator passes over whatever they hold (read() returns nothing for them), known by
 * their `type` written first (typeWrittenFirst): their JSON is not parsed, four parses of ~200-300
 * bytes per answer (~5 µs in the profile of a translated Codex stream). Not parsing them means a
 * garbled one is passed over too, as its content would be; the stream still fails unless
 * response.completed (or incomplete) arrives, and every event the translator reads is parsed or
 * scanned in full.
 */
const passedOverTypes = new Set(['response.in_progress', 'response.content_part.added', 'response.content_part.done', 'response.output_text.done']);

/**
 * An output item event for a message item (`"item":{"id":"…","type":"message"` as written by the
 * OpenAI API), which read() passes over: only function_call items become tool calls. Two more
 * parses of ~200-340 bytes per answer saved; any other writing of the item is parsed.
 */
const messageItemEvent = /^\{"type":"response\.output_item\.(?:added|done)","sequence_number":[0-9]{1,15},"output_index":[0-9]{1,6},"item":\{"id":"[^"\\]*","type":"message"/;

function streamFailed(message: string): GatewayError {
  return new GatewayError('GW_UPSTREAM_STREAM_FAILED', { message });
}

/**
 * Translates a Responses event stream into chat-completion chunks: the first chunk carries the
 * assistant role, `response.output_text.delta` → content deltas, a function_call item → a tool call
 * (id and name when it is added, then its argument deltas; arguments that only arrive with
 * `response.output_item.done` are sent then), `response.completed` / `response.incomplete` → the
 * finish chunk, then the usage chunk when asked for. `response.failed`, `error`, or an end before
 * the response is complete → GW_UPSTREAM_STREAM_FAILED. Reasoning events are not passed on.
 */
export function createResponsesToOpenAIStreamTranslator(context: ResponsesToOpenAIStreamContext): ResponsesToOpenAIStreamTranslator {
  const state: ResponsesToOpenAIStreamState = { id: 'chatcmpl-responses', model: context.model, created: context.created, toolCalls: new Map(), finished: false };
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> => ({
    id: state.id,
    object: 'chat.completion.chunk',
    created: state.created,
    model: state.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  });
  const toolDelta = (call: { index: number }, fields: Record<string, unknown>): Record<string, unknown> => chunk({ tool_calls: [{ index: call.index, ...fields }] });

  const read = (type: unknown, payload: Record<string, unknown>): Record<string, unknown>[] => {
    switch (type) {
      case 'response.created': {
        const response = isRecord(payload['response']) ? payload['response'] : {};
        state.id = completionIdOf(response);
        if (typeof response['model'] === 'string') state.model = response['model'];
        if (typeof response['created_at'] === 'number') state.created = response['created_at'];
        return [chunk({ role: 'assistant', content: '' })];
      }
      case 'response.output_text.delta':
        return typeof payload['delta'] === 'string' && payload['delta'] !== '' ? [chunk({ content: payload['delta'] })] : [];
      case 'response.output_item.added': {
        const item = isRecord(payload['item']) ? payload['item'] : {};
        if (item['type'] !== 'function_call' || typeof item['name'] !== 'string') return [];
        const call = { index: state.toolCalls.size, sent: '' };
        state.toolCalls.set(typeof item['id'] === 'string' ? item['id'] : `item_${call.index}`, call);
        return [toolDelta(call, { id: typeof item['call_id'] === 'string' ? item['call_id'] : `call_${call.index}`, type: 'function', function: { name: item['name'], arguments: '' } })];
      }
      case 'response.function_call_arguments.delta': {
        const call = typeof payload['item_id'] === 'string' ? state.toolCalls.get(payload['item_id']) : undefined;
        if (call === undefined || typeof payload['delta'] !== 'string' || payload['delta'] === '') return [];
        call.sent += payload['delta'];
        return [toolDelta(call, { function: { arguments: payload['delta'] } })];
      }
      case 'response.output_item.done': {
        const item = isRecord(payload['item']) ? payload['item'] : {};
        const call = typeof item['id'] === 'string' ? state.toolCalls.get(item['id']) : undefined;
        if (call === undefined || typeof item['arguments'] !== 'string') return [];
        // Whatever the deltas did not carry (all of it, from a server that sends no deltas).
        const rest = item['arguments'].startsWith(call.sent) ? item['arguments'].slice(call.sent.length) : '';
        const whole = call.sent + rest === '' ? '{}' : rest;
        call.sent += whole;
        return whole === '' ? [] : [toolDelta(call, { function: { arguments: whole } })];
      }
      case 'response.completed':
      case 'response.incomplete': {
        state.finished = true;
        const response = isRecord(payload['response']) ? payload['response'] : {};
        const output = [chunk({}, finishReasonOf(response, state.toolCalls.size > 0))];
        const usage = toChatUsage(response['usage']);
        if (context.includeUsage && usage !== undefined) output.push({ id: state.id, object: 'chat.completion.chunk', created: state.created, model: state.model, choices: [], usage });
        return output;
      }
      case 'response.failed': {
        const response = isRecord(payload['response']) ? payload['response'] : {};
        const error = isRecord(response['error']) ? response['error'] : {};
        throw streamFailed(typeof error['message'] === 'string' ? error['message'] : 'upstream reported a failed response');
      }
      case 'error':
        throw streamFailed(typeof payload['message'] === 'string' ? payload['message'] : 'upstream reported an error mid-stream');
      default:
        return []; // in_progress, content parts, reasoning, and event types to come
    }
  };

  return {
    push(event) {
      if (state.finished) return [];
      // A Responses stream has no [DONE]; one from a lenient server is skipped. Error events are read as response.failed.
      if (event.data.trim() === '[DONE]') return [];
      // A plain text delta: what read() does with it, without JSON.parse (formats/responses/stream-event-scan.ts).
      const delta = scanResponsesTextDelta(event.data);
      if (delta !== undefined) return delta === '' ? [] : [chunk({ content: delta })];
      const leadingType = typeWrittenFirst(event.data);
      if (leadingType !== undefined && (passedOverTypes.has(leadingType) || messageItemEvent.test(event.data))) return [];
      const typed = readTypedStreamEvent(event, false);
      return typed === undefined ? [] : read(typed.type, typed.payload);
    },
    flush() {
      if (state.finished) return [];
      throw streamFailed('upstream stream ended before response.completed');
    },
    abort: () => [],
  };
}
