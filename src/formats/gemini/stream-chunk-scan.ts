import { jsonCountPattern as count, jsonStringPattern as jsonString, matchedJsonString as stringOf } from '../json-patterns.js';
import type { GeminiAnswerChunk, GeminiUsageCounts } from './upstream-answer.js';

/**
 * The fast path of reading a Gemini upstream's stream chunk (issue #12, "Cost"). Nearly every
 * chunk of a streamed answer carries one text part:
 * `{"candidates": [{"content": {"role": "model","parts": [{"text": "…"}]}}],"usageMetadata": {…},
 * "modelVersion": "…","responseId": "…"}`, and the translators (openai-to-gemini and
 * anthropic-to-gemini) read five things from it: the text, the finishReason, the usage counts, the
 * model version and the response id. `JSON.parse` of every chunk was the largest item of a
 * Gemini upstream's translated stream (docs/benchmarks.md, "Translated streams"); this scan
 * matches the text against one regular expression and takes those values from its groups.
 *
 * It is conservative, as the chat and Responses scans are: it answers only for a chunk written in
 * the key order Google's servers use (plainTextChunk), each key it reads at most once, with a space or none
 * after each `:` and `,` (Google writes `"key": value`, JSON.stringify `"key":value`) and no other
 * whitespace. One candidate, whose content has one part with only `text`; no `thought`, no
 * `thoughtSignature`, no function call, no safety ratings, no `promptFeedback`, no `error`; strings
 * as JSON's grammar has them, counts non-negative integers. Anything else gives undefined and the
 * caller parses the chunk with JSON.parse and readGeminiAnswer as before. What it accepts it reads as
 * that pair does (stream-chunk-scan.test.ts checks this over the recorded streams and generated
 * and mutated chunks; bridges/gemini-chunk-fast-path.test.ts compares each bridge's output with
 * and without it). Pure.
 */
export function scanGeminiTextChunk(data: string): GeminiAnswerChunk | undefined {
  const match = plainTextChunk.exec(data);
  if (match === null) return undefined;
  const [, textAfterParts, textBeforeParts, finishReason, usage, modelVersion, responseId] = match;
  const text = stringOf(textAfterParts ?? textBeforeParts);
  if (text === undefined) return undefined;
  return {
    // readGeminiAnswer passes over an empty text part.
    parts: text === '' ? [] : [{ kind: 'text', text }],
    finishReason: stringOf(finishReason),
    usage: usage === undefined ? undefined : usageCounts(usage),
    modelVersion: stringOf(modelVersion),
    responseId: stringOf(responseId),
  };
}

/**
 * The counts of a usage object the pattern matched. Its keys come in any order, a repeated one too,
 * so each count is the last of its key, as JSON.parse keeps it. The object holds nothing but the
 * pattern's keys, counts and strings, and inside a string a quote is escaped, so `"promptTokenCount":`
 * is found only as that key.
 */
function usageCounts(usage: string): GeminiUsageCounts {
  const counts = { promptTokenCount: 0, candidatesTokenCount: 0, thoughtsTokenCount: 0, cachedContentTokenCount: 0 };
  countMember.lastIndex = 0;
  for (let member = countMember.exec(usage); member !== null; member = countMember.exec(usage)) counts[member[1] as keyof typeof counts] = Number(member[2]);
  return { promptTokens: counts.promptTokenCount, outputTokens: counts.candidatesTokenCount + counts.thoughtsTokenCount, thoughtTokens: counts.thoughtsTokenCount, cachedTokens: counts.cachedContentTokenCount };
}
const countMember = /"(promptTokenCount|candidatesTokenCount|thoughtsTokenCount|cachedContentTokenCount)": ?([0-9]+)/g;

/** A member after the first of an ordered object, which may be left out: `,"key": value`. */
const optional = (key: string, value: string): string => `(?:, ?"${key}": ?${value})?`;
/** An object of members in any order, a key repeated or not (read by JSON.parse, never from the pattern's groups). */
const anyOrder = (member: string): string => `\\{(?:${member})(?:, ?(?:${member}))*\\}`;

const parts = `"parts": ?\\[\\{"text": ?(${jsonString})\\}\\]`;
/** `parts` and `role` in either order (AI Studio writes parts first, Vertex role first). */
const content = `\\{(?:${parts}(?:, ?"role": ?${jsonString})?|"role": ?${jsonString}, ?${parts})\\}`;
const candidate = `\\{"content": ?${content}${optional('index', count)}${optional('finishReason', `(${jsonString})`)}${optional('index', count)}\\}`;
const tokensDetail = anyOrder(`"modality": ?${jsonString}|"tokenCount": ?${count}`);
const usageMember = [
  `"(?:promptTokenCount|candidatesTokenCount|totalTokenCount|thoughtsTokenCount|cachedContentTokenCount|toolUsePromptTokenCount)": ?${count}`,
  `"trafficType": ?${jsonString}`,
  `"(?:prompt|candidates|cache|toolUsePrompt)TokensDetails": ?\\[(?:${tokensDetail}(?:, ?${tokensDetail})*)?\\]`,
].join('|');
/**
 * The whole chunk, as the scan accepts it, with six groups: the text (parts first, or role first),
 * the finishReason, the usage object, the model version and the response id. Every key read here
 * comes at most once, so each group is the one value JSON.parse keeps (`index` and `createTime`,
 * read by no one, may come twice). One regular expression (compiled to
 * native code by V8): ~50 ns on a stream chunk, where JSON.parse takes ~700. Each optional member
 * starts with its own key and a string or count ends at the one character that may follow it, so
 * the match never backtracks more than a key's length; the test runs it over megabyte inputs.
 */
const plainTextChunk = new RegExp(
  `^\\{"candidates": ?\\[${candidate}\\]` +
    optional('usageMetadata', `(\\{\\}|${anyOrder(usageMember)})`) +
    optional('modelVersion', `(${jsonString})`) +
    optional('createTime', jsonString) +
    optional('responseId', `(${jsonString})`) +
    optional('createTime', jsonString) +
    '\\}$',
);
