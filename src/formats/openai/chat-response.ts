/**
 * OpenAI Chat Completions responses and stream chunks. Outward-facing types: what we send to
 * clients is built to these; what we read from upstreams is treated leniently (every field optional
 * in `OpenAIUpstream*` views) because OpenAI-compatible servers differ in what they omit.
 */
export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
}

export interface OpenAIResponseMessage {
  role: 'assistant';
  content: string | null;
  refusal?: string | null;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
}

export interface OpenAIChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: { index: number; message: OpenAIResponseMessage; finish_reason: OpenAIFinishReason | null; logprobs: null }[];
  usage?: OpenAIUsage;
  system_fingerprint?: string | null;
}

export interface OpenAIChunkToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface OpenAIChunkDelta {
  role?: 'assistant';
  content?: string | null;
  refusal?: string | null;
  tool_calls?: OpenAIChunkToolCallDelta[];
}

export interface OpenAIChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: { index: number; delta: OpenAIChunkDelta; finish_reason: OpenAIFinishReason | null; logprobs?: null }[];
  usage?: OpenAIUsage | null;
  system_fingerprint?: string | null;
}

/** OpenAI error body: `{"error":{"message","type","code","param"}}`. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string | null; param?: string | null };
}

/** The `GET /v1/models` list. */
export interface OpenAIModelList {
  object: 'list';
  data: { id: string; object: 'model'; created: number; owned_by: string }[];
}
