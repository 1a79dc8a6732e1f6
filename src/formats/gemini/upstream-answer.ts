import { GatewayError } from '../../errors/gateway-error.js';
import { isRecord } from './response-builder.js';

/**
 * Reading a Gemini upstream's answer (a whole generateContent answer or one stream chunk), shared by
 * openai-to-gemini and anthropic-to-gemini (one translator never imports another). Lenient: unknown
 * fields are ignored, odd ones skipped. Pure.
 */

/** One part of a candidate, as the translators need it. */
export type GeminiAnswerPart =
  | { kind: 'text'; text: string }
  | { kind: 'thought'; text: string }
  | { kind: 'call'; name: string; args: Record<string, unknown>; signature: string | undefined };

export interface GeminiUsageCounts {
  promptTokens: number;
  /** Visible output plus thinking (both are billed as output). */
  outputTokens: number;
  thoughtTokens: number;
  cachedTokens: number;
}

export interface GeminiAnswerChunk {
  parts: GeminiAnswerPart[];
  /** The candidate's finishReason, or the prompt's blockReason when no candidate came back. */
  finishReason: string | undefined;
  usage: GeminiUsageCounts | undefined;
  modelVersion: string | undefined;
  responseId: string | undefined;
}

function count(record: Record<string, unknown>, key: string): number {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

function readUsage(value: unknown): GeminiUsageCounts | undefined {
  if (!isRecord(value)) return undefined;
  const thoughtTokens = count(value, 'thoughtsTokenCount');
  return { promptTokens: count(value, 'promptTokenCount'), outputTokens: count(value, 'candidatesTokenCount') + thoughtTokens, thoughtTokens, cachedTokens: count(value, 'cachedContentTokenCount') };
}

function readPart(part: unknown): GeminiAnswerPart | undefined {
  if (!isRecord(part)) return undefined;
  const signature = typeof part['thoughtSignature'] === 'string' && part['thoughtSignature'] !== '' ? part['thoughtSignature'] : undefined;
  const call = part['functionCall'];
  if (isRecord(call) && typeof call['name'] === 'string') {
    return { kind: 'call', name: call['name'], args: isRecord(call['args']) ? call['args'] : {}, signature };
  }
  if (typeof part['text'] === 'string' && part['text'] !== '') return part['thought'] === true ? { kind: 'thought', text: part['text'] } : { kind: 'text', text: part['text'] };
  return undefined; // executableCode, inlineData in an answer…: nothing the other formats can carry
}

/**
 * Reads one answer or chunk. An `error` object (Gemini's in-stream error, or Code Assist's) is
 * GW_UPSTREAM_STREAM_FAILED with its message; a value that is not an answer (no candidates, no
 * promptFeedback, no usage) is GW_UPSTREAM_BAD_RESPONSE.
 */
export function readGeminiAnswer(body: unknown, what: 'answer' | 'chunk'): GeminiAnswerChunk {
  if (isRecord(body) && body['error'] !== undefined && body['error'] !== null) {
    const error = body['error'];
    const message = isRecord(error) && typeof error['message'] === 'string' ? error['message'] : 'the upstream reported an error';
    throw new GatewayError(what === 'chunk' ? 'GW_UPSTREAM_STREAM_FAILED' : 'GW_UPSTREAM_BAD_RESPONSE', { message: `Gemini upstream: ${message}` });
  }
  const candidates = isRecord(body) ? body['candidates'] : undefined;
  const feedback = isRecord(body) ? body['promptFeedback'] : undefined;
  if (!isRecord(body) || (!Array.isArray(candidates) && !isRecord(feedback) && !isRecord(body['usageMetadata']))) {
    throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message: `The Gemini upstream sent a ${what} without candidates.` });
  }
  const candidate: unknown = Array.isArray(candidates) ? candidates[0] : undefined;
  const content = isRecord(candidate) ? candidate['content'] : undefined;
  const rawParts: unknown = isRecord(content) ? content['parts'] : undefined;
  const parts = Array.isArray(rawParts) ? rawParts.map(readPart).filter((part): part is GeminiAnswerPart => part !== undefined) : [];
  const finish = isRecord(candidate) && typeof candidate['finishReason'] === 'string' ? candidate['finishReason'] : undefined;
  const blocked = isRecord(feedback) && typeof feedback['blockReason'] === 'string' ? 'SAFETY' : undefined;
  return {
    parts,
    finishReason: finish ?? blocked,
    usage: readUsage(body['usageMetadata']),
    modelVersion: typeof body['modelVersion'] === 'string' ? body['modelVersion'] : undefined,
    responseId: typeof body['responseId'] === 'string' ? body['responseId'] : undefined,
  };
}

/**
 * One stream chunk, parsed and read (the translators try formats/gemini/stream-chunk-scan.ts
 * first). A chunk that is not JSON is GW_UPSTREAM_STREAM_FAILED.
 */
export function parseGeminiChunk(data: string): GeminiAnswerChunk {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (error) {
    throw new GatewayError('GW_UPSTREAM_STREAM_FAILED', { message: 'The Gemini upstream sent a stream chunk that is not JSON.', cause: error });
  }
  return readGeminiAnswer(parsed, 'chunk');
}

/** How a Gemini turn ended, in the terms both other formats use. */
export type TurnEnd = 'stop' | 'tool_calls' | 'length' | 'content_filter';

/**
 * Gemini finishReason → how the turn ended. A turn with a function call ends in tool calls whatever
 * Gemini says (it says STOP). MAX_TOKENS → length; SAFETY, RECITATION, BLOCKLIST,
 * PROHIBITED_CONTENT, SPII, IMAGE_SAFETY → content_filter; anything else (OTHER,
 * MALFORMED_FUNCTION_CALL, LANGUAGE) → stop.
 */
export function turnEnd(finishReason: string, hasCalls: boolean): TurnEnd {
  if (hasCalls) return 'tool_calls';
  if (finishReason === 'MAX_TOKENS') return 'length';
  if (['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY'].includes(finishReason)) return 'content_filter';
  return 'stop';
}

/** FNV-1a, 32 bits, as 8 hex digits: a stable short digest without node:crypto (translators import no Node module). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

const plainCallPrefix = 'call_gemini_';
const signedCallPrefix = 'call_gsig_';

/**
 * The id a Gemini function call gets for an OpenAI or Anthropic client (Gemini sends none): a digest
 * of the answer's id, the call's position, name and arguments, so the same answer always gives the
 * same id. A call carrying a `thoughtSignature` (Gemini 3 refuses a function-calling history
 * without it) carries it inside the id, base64url-encoded: the client echoes the id back with the
 * tool result, and the next request to Gemini puts the signature back on the call. The signature
 * never goes to another provider: only the Gemini request translators read it.
 */
export function geminiCallId(seed: string, index: number, name: string, args: Record<string, unknown>, signature: string | undefined): string {
  const digest = fnv1a(`${seed}|${index}|${name}|${JSON.stringify(args)}`);
  // Signatures are base64 text; anything else (not printable ASCII) cannot travel in an id and is left out.
  if (signature === undefined || !/^[\x20-\x7e]+$/.test(signature)) return `${plainCallPrefix}${digest}_${index}`;
  const encoded = btoa(signature).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${signedCallPrefix}${digest}_${encoded}`;
}

/** The thoughtSignature a call id carries (geminiCallId), or undefined. */
export function signatureFromCallId(id: string): string | undefined {
  if (!id.startsWith(signedCallPrefix)) return undefined;
  const encoded = id.slice(signedCallPrefix.length + 9);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  try {
    const base64 = encoded.replace(/-/g, '+').replace(/_/g, '/');
    return atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  } catch {
    return undefined;
  }
}

/**
 * Google's documented stand-in signature for a function call whose signature is unknown (a
 * conversation begun with another model): Gemini 3 accepts the history with it instead of a 400.
 */
export const unknownThoughtSignature = 'skip_thought_signature_validator';
