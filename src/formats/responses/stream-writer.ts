import {
  functionCallItemId,
  functionCallOutput,
  messageItemId,
  messageOutput,
  responsesObject,
  type ResponsesAnswerContext,
  type ResponsesOutputItem,
  type ResponsesUsage,
} from './response-builder.js';

/** One typed `response.*` event; `type` is also the SSE event name. */
export interface ResponsesStreamEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}

/** The item being streamed: text goes into a message item, argument deltas into a function_call item. */
type OpenItem = { kind: 'message'; id: string; outputIndex: number; text: string } | { kind: 'function_call'; id: string; outputIndex: number; callId: string; name: string; arguments: string };

/** The writer's state: everything needed to close open items and to send the whole output at the end. */
export interface ResponsesStreamWriterState {
  model: string;
  sequenceNumber: number;
  started: boolean;
  open: OpenItem | undefined;
  output: ResponsesOutputItem[];
  finished: boolean;
}

export interface ResponsesStreamWriter {
  readonly state: ResponsesStreamWriterState;
  /** The model the upstream reports (set before the first event goes out, when it is known). */
  setModel(model: string): void;
  /** `response.created` and `response.in_progress`, once (every other method starts the stream if needed). */
  start(): ResponsesStreamEvent[];
  /** A text delta: opens a message item and its output_text part first when none is open. */
  text(delta: string): ResponsesStreamEvent[];
  /** A function call begins: the open item is closed first. */
  functionCallStart(callId: string, name: string): ResponsesStreamEvent[];
  /** An arguments delta for the open function call (ignored when none is open). */
  functionCallArguments(delta: string): ResponsesStreamEvent[];
  /** The open item is done (`response.output_item.done` with the whole item). */
  closeItem(): ResponsesStreamEvent[];
  /** The turn is over: open items closed, then `response.completed` (or `response.incomplete` with its reason). */
  finish(usage: ResponsesUsage | null, incompleteReason?: string): ResponsesStreamEvent[];
  /** The upstream failed part-way: `response.failed` with the error and the items completed so far (the open one is not). */
  fail(code: string, message: string): ResponsesStreamEvent[];
}

/**
 * Builds the Responses event sequence the API sends, with `sequence_number` counting from 0:
 * `response.created`, `response.in_progress`, then per item `response.output_item.added`
 * (+ `response.content_part.added` for text), its deltas (`response.output_text.delta`,
 * `response.function_call_arguments.delta`), their `.done` events, `response.output_item.done`,
 * and at the end `response.completed` carrying the whole output and the usage. Pure.
 */
export function createResponsesStreamWriter(context: ResponsesAnswerContext): ResponsesStreamWriter {
  const state: ResponsesStreamWriterState = { model: context.model, sequenceNumber: 0, started: false, open: undefined, output: [], finished: false };
  const snapshot = (status: 'in_progress' | 'completed' | 'incomplete', usage: ResponsesUsage | null, incompleteReason?: string) =>
    responsesObject(context, { model: state.model, status, output: status === 'in_progress' ? [] : state.output, usage, ...(incompleteReason === undefined ? {} : { incompleteReason }) });

  const start = (): ResponsesStreamEvent[] => {
    if (state.started) return [];
    state.started = true;
    // One object for both events (they carry the same response): the encoder writes it once
    // (stream-event-text.ts, createResponsesEventEncoder). Nothing mutates an event's objects.
    const response = snapshot('in_progress', null);
    return [
      { type: 'response.created', sequence_number: state.sequenceNumber++, response },
      { type: 'response.in_progress', sequence_number: state.sequenceNumber++, response },
    ];
  };

  // The events are object literals in the order their keys are written: building each from a
  // spread position object, spread again into the event, copied every event twice, and closing an
  // item was the writer's largest cost in a --cpu-prof of a translated stream (about 6%).
  const closeItem = (): ResponsesStreamEvent[] => {
    const open = state.open;
    if (open === undefined) return [];
    state.open = undefined;
    const { id, outputIndex } = open;
    if (open.kind === 'message') {
      const item = messageOutput(id, open.text);
      state.output.push(item);
      return [
        { type: 'response.output_text.done', sequence_number: state.sequenceNumber++, item_id: id, output_index: outputIndex, content_index: 0, text: open.text, logprobs: [] },
        { type: 'response.content_part.done', sequence_number: state.sequenceNumber++, item_id: id, output_index: outputIndex, content_index: 0, part: item.content[0] },
        { type: 'response.output_item.done', sequence_number: state.sequenceNumber++, output_index: outputIndex, item },
      ];
    }
    // A call without arguments (a tool with no input) still carries a JSON object, as the API's do.
    const events: ResponsesStreamEvent[] = [];
    if (open.arguments === '') {
      open.arguments = '{}';
      events.push({ type: 'response.function_call_arguments.delta', sequence_number: state.sequenceNumber++, item_id: id, output_index: outputIndex, delta: '{}' });
    }
    const item = functionCallOutput(open.callId, open.name, open.arguments);
    state.output.push(item);
    events.push(
      { type: 'response.function_call_arguments.done', sequence_number: state.sequenceNumber++, item_id: id, output_index: outputIndex, name: open.name, arguments: open.arguments },
      { type: 'response.output_item.done', sequence_number: state.sequenceNumber++, output_index: outputIndex, item },
    );
    return events;
  };

  const nextIndex = (): number => state.output.length;

  return {
    state,
    setModel(model) {
      state.model = model;
    },
    start,
    text(delta) {
      if (delta === '') return [];
      const events = start();
      if (state.open?.kind !== 'message') {
        events.push(...closeItem());
        const outputIndex = nextIndex();
        const id = messageItemId(context.responseId, outputIndex);
        state.open = { kind: 'message', id, outputIndex, text: '' };
        const item: ResponsesOutputItem = { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
        events.push({ type: 'response.output_item.added', sequence_number: state.sequenceNumber++, output_index: outputIndex, item });
        events.push({ type: 'response.content_part.added', sequence_number: state.sequenceNumber++, item_id: id, output_index: outputIndex, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      }
      const open = state.open;
      open.text += delta;
      // One per upstream chunk.
      events.push({ type: 'response.output_text.delta', sequence_number: state.sequenceNumber++, item_id: open.id, output_index: open.outputIndex, content_index: 0, delta, logprobs: [] });
      return events;
    },
    functionCallStart(callId, name) {
      const events = [...start(), ...closeItem()];
      const outputIndex = nextIndex();
      const id = functionCallItemId(callId);
      state.open = { kind: 'function_call', id, outputIndex, callId, name, arguments: '' };
      events.push({ type: 'response.output_item.added', sequence_number: state.sequenceNumber++, output_index: outputIndex, item: functionCallOutput(callId, name, '', 'in_progress') });
      return events;
    },
    functionCallArguments(delta) {
      const open = state.open;
      if (open?.kind !== 'function_call' || delta === '') return [];
      open.arguments += delta;
      return [{ type: 'response.function_call_arguments.delta', sequence_number: state.sequenceNumber++, item_id: open.id, output_index: open.outputIndex, delta }];
    },
    closeItem,
    finish(usage, incompleteReason) {
      if (state.finished) return [];
      const events = [...start(), ...closeItem()];
      state.finished = true;
      const status = incompleteReason === undefined ? 'completed' : 'incomplete';
      events.push({ type: `response.${status}`, sequence_number: state.sequenceNumber++, response: snapshot(status, usage, incompleteReason) });
      return events;
    },
    fail(code, message) {
      if (state.finished) return [];
      const events = start();
      state.finished = true;
      state.open = undefined;
      events.push({ type: 'response.failed', sequence_number: state.sequenceNumber++, response: responsesObject(context, { model: state.model, status: 'failed', output: state.output, usage: null, error: { code, message } }) });
      return events;
    },
  };
}
