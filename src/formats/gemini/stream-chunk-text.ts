import { hasKeysInOrder, isInteger, jsonText } from '../own-keys.js';
import type { GeminiGenerateContentResponse } from './generate-content-response.js';

/**
 * A translated Gemini stream chunk as JSON text, byte for byte `JSON.stringify(chunk)`.
 *
 * A translated stream to a Gemini client is one chunk per upstream text delta, and
 * `JSON.stringify` of each chunk object (five nested objects and arrays around one string) was the
 * largest item of its CPU after the upstream chunk's parse (docs/benchmarks.md, "Translated
 * streams"). The chunks that response-builder.ts's `geminiResponse` builds are written here from a
 * template, with `JSON.stringify` only on the strings they carry: the text chunks, and the last
 * chunk with its finishReason and usageMetadata (its stringify was about 6% of the `gemini ←
 * openai-chat` transformer; "Translated streams, session of 2026-12-04"). A part other than one
 * text (a function call, a thought) is stringified alone. The template is taken only when each
 * object has exactly the builder's shape, keys in its order (own-keys.ts); any other chunk goes
 * through `JSON.stringify`. stream-event-text.test.ts compares both over every translator fixture. Pure.
 */
export function geminiChunkText(chunk: GeminiGenerateContentResponse): string {
  // The text chunk (all but the last of a stream) first, from one template.
  const text = plainText(chunk);
  if (text !== undefined) return `{"candidates":[{"content":{"role":"model","parts":[{"text":${JSON.stringify(text)}}]},"index":0}],${chunkTail(chunk.modelVersion, chunk.responseId)}`;
  return templatedChunkText(chunk) ?? JSON.stringify(chunk);
}

/**
 * The text after the candidates, `"modelVersion":…,"responseId":…}`: the same for every chunk of a
 * stream, so the last one is kept (strings in, a string out: a cache of a pure function) and the
 * two `JSON.stringify` calls run once per stream instead of once per chunk.
 */
let lastTail = { modelVersion: '', responseId: undefined as string | undefined, text: '"modelVersion":""}' };
function chunkTail(modelVersion: string, responseId: string | undefined): string {
  if (modelVersion === lastTail.modelVersion && responseId === lastTail.responseId) return lastTail.text;
  const text = `"modelVersion":${JSON.stringify(modelVersion)}${responseId === undefined ? '' : `,"responseId":${JSON.stringify(responseId)}`}}`;
  lastTail = { modelVersion, responseId, text };
  return text;
}

const chunkKeys = ['candidates', 'modelVersion'] as const;
const chunkKeysWithId = ['candidates', 'modelVersion', 'responseId'] as const;
const chunkKeysWithUsage = ['candidates', 'modelVersion', 'usageMetadata'] as const;
const chunkKeysWithUsageAndId = ['candidates', 'modelVersion', 'usageMetadata', 'responseId'] as const;
const candidateKeys = ['content', 'index'] as const;
const finishedCandidateKeys = ['content', 'finishReason', 'index'] as const;
const contentKeys = ['role', 'parts'] as const;
const textPartKeys = ['text'] as const;
const usageKeys = ['promptTokenCount', 'candidatesTokenCount', 'totalTokenCount'] as const;
const usageKeysWithCached = ['promptTokenCount', 'candidatesTokenCount', 'totalTokenCount', 'cachedContentTokenCount'] as const;

/** The text of a chunk of one candidate with one text part and nothing else; undefined for any other chunk. */
function plainText(chunk: GeminiGenerateContentResponse): string | undefined {
  if (typeof chunk.modelVersion !== 'string' || chunk.usageMetadata !== undefined) return undefined;
  if (!hasKeysInOrder(chunk, typeof chunk.responseId === 'string' ? chunkKeysWithId : chunkKeys)) return undefined;
  const candidates: unknown = chunk.candidates;
  if (!Array.isArray(candidates) || candidates.length !== 1) return undefined;
  const candidate: unknown = candidates[0];
  if (typeof candidate !== 'object' || candidate === null || !hasKeysInOrder(candidate, candidateKeys)) return undefined;
  const { content, index } = candidate as { content: unknown; index: unknown };
  if (index !== 0 || typeof content !== 'object' || content === null || !hasKeysInOrder(content, contentKeys)) return undefined;
  const { role, parts } = content as { role: unknown; parts: unknown };
  if (role !== 'model' || !Array.isArray(parts) || parts.length !== 1) return undefined;
  const part: unknown = parts[0];
  if (typeof part !== 'object' || part === null || !hasKeysInOrder(part, textPartKeys)) return undefined;
  const text = (part as { text: unknown }).text;
  return typeof text === 'string' ? text : undefined;
}

/** Any other chunk (the last one of a stream, with finishReason and usageMetadata) from its template, or undefined when any object in it is not the builder's shape. */
function templatedChunkText(chunk: GeminiGenerateContentResponse): string | undefined {
  const { modelVersion, responseId, usageMetadata } = chunk;
  if (typeof modelVersion !== 'string' || (responseId !== undefined && typeof responseId !== 'string')) return undefined;
  const keys = usageMetadata === undefined ? (responseId === undefined ? chunkKeys : chunkKeysWithId) : responseId === undefined ? chunkKeysWithUsage : chunkKeysWithUsageAndId;
  if (!hasKeysInOrder(chunk, keys)) return undefined;
  const candidates: unknown = chunk.candidates;
  if (!Array.isArray(candidates) || candidates.length !== 1) return undefined;
  const candidate = candidateText(candidates[0]);
  if (candidate === undefined) return undefined;
  if (usageMetadata === undefined) return `{"candidates":[${candidate}],${chunkTail(modelVersion, responseId)}`;
  const usage = typeof usageMetadata === 'object' && usageMetadata !== null ? usageText(usageMetadata) : undefined;
  if (usage === undefined) return undefined;
  return `{"candidates":[${candidate}],"modelVersion":${JSON.stringify(modelVersion)},"usageMetadata":${usage}${responseId === undefined ? '' : `,"responseId":${JSON.stringify(responseId)}`}}`;
}

/** `{"content":{"role":"model","parts":[…]},("finishReason":…,)"index":0}`. */
function candidateText(candidate: unknown): string | undefined {
  if (typeof candidate !== 'object' || candidate === null) return undefined;
  const { content, finishReason, index } = candidate as { content: unknown; finishReason: unknown; index: unknown };
  if (index !== 0 || typeof content !== 'object' || content === null || !hasKeysInOrder(content, contentKeys)) return undefined;
  if (finishReason === undefined ? !hasKeysInOrder(candidate, candidateKeys) : typeof finishReason !== 'string' || !hasKeysInOrder(candidate, finishedCandidateKeys)) return undefined;
  const { role, parts } = content as { role: unknown; parts: unknown };
  if (role !== 'model' || !Array.isArray(parts)) return undefined;
  let partsText = '';
  for (let position = 0; position < parts.length; position++) {
    const part = partText(parts[position]);
    if (part === undefined) return undefined;
    partsText += position === 0 ? part : `,${part}`;
  }
  const finish = finishReason === undefined ? '' : `"finishReason":${JSON.stringify(finishReason)},`;
  return `{"content":{"role":"model","parts":[${partsText}]},${finish}"index":0}`;
}

/** A text part from the template; another part (a function call, a thought) as JSON.stringify writes it, undefined for one without JSON text. */
function partText(part: unknown): string | undefined {
  if (typeof part === 'object' && part !== null && hasKeysInOrder(part, textPartKeys)) {
    const text = (part as { text: unknown }).text;
    if (typeof text === 'string') return `{"text":${JSON.stringify(text)}}`;
  }
  return jsonText(part);
}

/** usageMetadata's three or four counts, when each is an integer; undefined for any other shape. */
function usageText(usage: object): string | undefined {
  const { promptTokenCount, candidatesTokenCount, totalTokenCount, cachedContentTokenCount } = usage as Record<string, unknown>;
  if (!isInteger(promptTokenCount) || !isInteger(candidatesTokenCount) || !isInteger(totalTokenCount)) return undefined;
  const counts = `{"promptTokenCount":${promptTokenCount},"candidatesTokenCount":${candidatesTokenCount},"totalTokenCount":${totalTokenCount}`;
  if (cachedContentTokenCount === undefined) return hasKeysInOrder(usage, usageKeys) ? `${counts}}` : undefined;
  return isInteger(cachedContentTokenCount) && hasKeysInOrder(usage, usageKeysWithCached) ? `${counts},"cachedContentTokenCount":${cachedContentTokenCount}}` : undefined;
}


