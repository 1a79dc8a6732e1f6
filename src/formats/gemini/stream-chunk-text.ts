import { hasKeysInOrder } from '../own-keys.js';
import type { GeminiGenerateContentResponse } from './generate-content-response.js';

/**
 * A translated Gemini stream chunk as JSON text, byte for byte `JSON.stringify(chunk)`.
 *
 * A translated stream to a Gemini client is one chunk per upstream text delta, and
 * `JSON.stringify` of each chunk object (five nested objects and arrays around one string) was the
 * largest item of its CPU after the upstream chunk's parse (docs/benchmarks.md, "Translated
 * streams"). The text chunk that response-builder.ts's `geminiResponse` builds is written here
 * from a template, with `JSON.stringify` only on the strings it carries. The template is taken only
 * when the object has exactly that shape, keys in that order (own-keys.ts); any
 * other chunk (the last one with finishReason and usage, function calls, thoughts) goes through
 * `JSON.stringify`. stream-event-text.test.ts compares both over every translator fixture. Pure.
 */
export function geminiChunkText(chunk: GeminiGenerateContentResponse): string {
  const text = plainText(chunk);
  if (text === undefined) return JSON.stringify(chunk);
  return `{"candidates":[{"content":{"role":"model","parts":[{"text":${JSON.stringify(text)}}]},"index":0}],${chunkTail(chunk.modelVersion, chunk.responseId)}`;
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
const candidateKeys = ['content', 'index'] as const;
const contentKeys = ['role', 'parts'] as const;
const partKeys = ['text'] as const;

/** The text of a chunk of one candidate with one text part and nothing else; undefined for any other chunk. */
function plainText(chunk: GeminiGenerateContentResponse): string | undefined {
  if (typeof chunk.modelVersion !== 'string') return undefined;
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
  if (typeof part !== 'object' || part === null || !hasKeysInOrder(part, partKeys)) return undefined;
  const text = (part as { text: unknown }).text;
  return typeof text === 'string' ? text : undefined;
}
