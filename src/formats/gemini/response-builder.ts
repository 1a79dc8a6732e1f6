import { GatewayError } from '../../errors/gateway-error.js';
import type { GeminiFinishReason, GeminiGenerateContentResponse, GeminiResponsePart, GeminiUsageMetadata } from './generate-content-response.js';

/**
 * The Gemini side shared by gemini-to-openai and gemini-to-anthropic: both build the same
 * generateContent answer (one candidate, index 0) from a different upstream, whole or as stream
 * chunks, so the shape is written once here. Kept beside the wire types because one translator never
 * imports another. Pure.
 */
export interface GeminiAnswer {
  parts: GeminiResponsePart[];
  /** Left out of the candidate when undefined (a chunk before the end, or a turn not finished). */
  finishReason?: GeminiFinishReason | undefined;
  modelVersion: string;
  usageMetadata?: GeminiUsageMetadata | undefined;
  responseId?: string | undefined;
}

/** One generateContent answer (or streamed chunk); fields in the order Gemini sends them. */
export function geminiResponse(answer: GeminiAnswer): GeminiGenerateContentResponse {
  const { finishReason, usageMetadata, responseId } = answer;
  const content = { role: 'model' as const, parts: answer.parts };
  // Two literals rather than a spread of `{ finishReason }`: this runs once per streamed chunk, and
  // a spread copies through a temporary object.
  const candidate = finishReason === undefined ? { content, index: 0 } : { content, finishReason, index: 0 };
  const response: GeminiGenerateContentResponse = { candidates: [candidate], modelVersion: answer.modelVersion };
  if (usageMetadata !== undefined) response.usageMetadata = usageMetadata;
  if (responseId !== undefined) response.responseId = responseId;
  return response;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A token count from an upstream usage record: a finite number ≥ 0, else 0. */
export function count(record: Record<string, unknown>, key: string): number {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/**
 * A function call's arguments: both upstreams send JSON text, Gemini an object. Empty text is `{}`;
 * text that is not a JSON object (a truncated answer) travels as `{ "arguments": "<the text>" }`
 * rather than being lost.
 */
export function parseArguments(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) return parsed;
  } catch {
    // fall through: kept as text
  }
  return { arguments: text };
}

export function streamFailed(message: string): GatewayError {
  return new GatewayError('GW_UPSTREAM_STREAM_FAILED', { message });
}
