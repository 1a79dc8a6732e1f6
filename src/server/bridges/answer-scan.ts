import type { WireFormat } from '../../formats/wire-format.js';
import type { ExchangeUsage } from '../exchange.js';
import { parseUpstreamJson } from './upstream-json.js';
import { firstNonSpace, lastNonSpace, scanTopLevelUsage } from './json-tail-scan.js';
import { lastGeminiUsage, usageFromAnswer, usageFromUsageObject } from './usage.js';

/**
 * A same-format answer is relayed as the upstream's bytes, so the pipeline needs two facts about
 * it, not its parse: is it JSON (an HTML page or a cut body is a 502, GW_UPSTREAM_BAD_RESPONSE),
 * and what usage does it report (for the per-request record). Parsing the whole answer for that
 * cost more than any other step of a pass-through request (~3–5 µs for a 500-byte answer, the
 * parse building every object of it); here both come from its two ends, and a full parse happens
 * only when the ends cannot decide.
 */

const openObject = 0x7b;
const closeObject = 0x7d;
const openArray = 0x5b;
const closeArray = 0x5d;

/**
 * Refuses a relayed answer that is not JSON: one that opens with `{` and closes with `}` (or `[`
 * and `]`) passes without a parse, anything else is parsed and refused with a 502 when the parse
 * fails (so a bare JSON string or number still passes, as before). Catches what an upstream that
 * is not the API sends with a 200 or a redirect: HTML, text, an empty or cut body.
 */
export function checkRelayedAnswer(body: Buffer): void {
  const first = body[firstNonSpace(body)];
  const last = body[lastNonSpace(body)];
  if ((first === openObject && last === closeObject) || (first === openArray && last === closeArray)) return;
  parseUpstreamJson(body);
}

/**
 * Usage of a relayed answer (undefined when it reports none): from its top-level `usage` read back
 * from the end, or from a full parse when the scan cannot decide (the parse also refuses a body
 * that is not JSON, as the pipeline's check would have).
 */
export function usageOfRelayedAnswer(upstreamFormat: WireFormat, body: Buffer): ExchangeUsage | undefined {
  if (upstreamFormat === 'gemini') return lastGeminiUsage(body);
  const scan = scanTopLevelUsage(body);
  if (scan.kind === 'found') return usageFromUsageObject(upstreamFormat, scan.value);
  if (scan.kind === 'absent') return undefined;
  return usageFromAnswer(upstreamFormat, parseUpstreamJson(body));
}
