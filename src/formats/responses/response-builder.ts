import type { ResponsesRequest } from './request.js';

/**
 * The Responses side shared by responses-to-openai and responses-to-anthropic: both build the same
 * `response` object (non-streamed) and the same typed `response.*` event sequence (streamed) from a
 * different upstream, so the shape is written once here, beside the wire types (one translator never
 * imports another). Pure.
 *
 * The shapes follow the API reference and what Codex CLI reads: it builds its history from
 * `response.output_item.done` items, shows `response.output_text.delta`, and a turn is over only at
 * `response.completed` (an end without it is "stream closed before response.completed" and a retry).
 */

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponsesOutputText {
  type: 'output_text';
  text: string;
  annotations: unknown[];
}

export interface ResponsesMessageOutput {
  id: string;
  type: 'message';
  status: 'in_progress' | 'completed' | 'incomplete';
  role: 'assistant';
  content: ResponsesOutputText[];
}

export interface ResponsesFunctionCallOutput {
  id: string;
  type: 'function_call';
  status: 'in_progress' | 'completed' | 'incomplete';
  call_id: string;
  name: string;
  arguments: string;
}

export type ResponsesOutputItem = ResponsesMessageOutput | ResponsesFunctionCallOutput;

export type ResponsesStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export interface ResponsesObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponsesStatus;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: string } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: ResponsesOutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: null;
  store: false;
  temperature: number | null;
  tool_choice: unknown;
  tools: unknown[];
  top_p: number | null;
  usage: ResponsesUsage | null;
  metadata: Record<string, unknown>;
}

/** What a translated answer knows besides its output: fixed before the upstream call. */
export interface ResponsesAnswerContext {
  /** `resp_…`: the gateway stores nothing, so the id names this exchange only. */
  responseId: string;
  /** Seconds since the epoch. */
  createdAt: number;
  /** The model name when the upstream reports none. */
  model: string;
  /** The client's request, echoed in the response object as the API does. */
  request: ResponsesRequest;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A token count from an upstream usage record: a finite number ≥ 0, else 0. */
export function count(record: Record<string, unknown>, key: string): number {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

export function responsesUsage(input: number, output: number, cached: number, reasoning = 0): ResponsesUsage {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: input + output,
  };
}

/** The `response` object; `store` is always false: the gateway keeps no response to retrieve later. */
export function responsesObject(
  context: ResponsesAnswerContext,
  answer: { model: string; status: ResponsesStatus; output: ResponsesOutputItem[]; usage: ResponsesUsage | null; incompleteReason?: string; error?: { code: string; message: string } },
): ResponsesObject {
  const request = context.request;
  return {
    id: context.responseId,
    object: 'response',
    created_at: context.createdAt,
    status: answer.status,
    error: answer.error ?? null,
    incomplete_details: answer.incompleteReason === undefined ? null : { reason: answer.incompleteReason },
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: answer.model,
    output: answer.output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    store: false,
    temperature: request.temperature ?? null,
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? null,
    usage: answer.usage,
    metadata: request.metadata ?? {},
  };
}

/** Output item ids: `msg_<response id>_<n>`, `fc_<call id>` (stable for one answer, unique within it). */
export function messageItemId(responseId: string, outputIndex: number): string {
  return `msg_${responseId.replace(/^resp_/, '')}_${outputIndex}`;
}

export function functionCallItemId(callId: string): string {
  return `fc_${callId.replace(/^(call_|toolu_|fc_)/, '')}`;
}

export function messageOutput(id: string, text: string, status: ResponsesMessageOutput['status'] = 'completed'): ResponsesMessageOutput {
  return { id, type: 'message', status, role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] };
}

export function functionCallOutput(callId: string, name: string, args: string, status: ResponsesFunctionCallOutput['status'] = 'completed'): ResponsesFunctionCallOutput {
  return { id: functionCallItemId(callId), type: 'function_call', status, call_id: callId, name, arguments: args };
}
