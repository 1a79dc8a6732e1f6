import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../errors/gateway-error.js';
import { checkRelayedAnswer, usageOfRelayedAnswer } from './answer-scan.js';
import { scanTopLevelUsage, usageScanBytes } from './json-tail-scan.js';
import { usageFromAnswer } from './usage.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

function refusal(body: string): string | undefined {
  try {
    checkRelayedAnswer(bytes(body));
    return undefined;
  } catch (error) {
    return isGatewayError(error) ? error.code : String(error);
  }
}

/** What a full parse says: the reference every scan result must equal. */
function parsedUsage(format: 'openai-chat' | 'anthropic-messages', body: string): ReturnType<typeof usageFromAnswer> {
  return usageFromAnswer(format, JSON.parse(body));
}

const openaiAnswer = (usage: string, content = 'Hello.'): string =>
  `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":${JSON.stringify(content)}},"finish_reason":"stop"}],"usage":${usage},"system_fingerprint":"fp_1"}`;

describe('the JSON check of a relayed answer', () => {
  it('passes objects and arrays by their ends, with whitespace around', () => {
    expect(refusal(openaiAnswer('{"prompt_tokens":1}'))).toBeUndefined();
    expect(refusal(' \r\n\t{"a":1}\n')).toBeUndefined();
    expect(refusal('[1,2]')).toBeUndefined();
  });

  it('refuses what an upstream that is not the API sends: HTML, text, a cut body, nothing', () => {
    for (const body of ['<!doctype html><html><body>Gateway maintenance</body></html>', '{"choices": [ garbage', 'Service Unavailable', '', '  \n', '{"a":1', '"a":1}', '{"a":[1}]'.slice(0, 7)]) {
      expect(refusal(body), body).toBe('GW_UPSTREAM_BAD_RESPONSE');
    }
  });

  it('still accepts any JSON value the parse accepts (a bare string or number), as before', () => {
    expect(refusal('"just a string"')).toBeUndefined();
    expect(refusal(' 42 ')).toBeUndefined();
  });
});

describe('usage read back from the end of a relayed answer', () => {
  it('finds the top-level usage of both formats without a full parse', () => {
    const openai = openaiAnswer('{"prompt_tokens":12,"completion_tokens":6,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":4}}');
    expect(scanTopLevelUsage(bytes(openai)).kind).toBe('found');
    expect(usageOfRelayedAnswer('openai-chat', bytes(openai))).toEqual({ inputTokens: 12, outputTokens: 6, cachedTokens: 4 });
    const anthropic = '{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","usage":{"input_tokens":9,"output_tokens":3,"cache_read_input_tokens":2}}';
    expect(usageOfRelayedAnswer('anthropic-messages', bytes(anthropic))).toEqual({ inputTokens: 9, outputTokens: 3, cachedTokens: 2 });
  });

  it('never takes a "usage" inside a string, whatever its escapes', () => {
    const fakes = [
      '"usage":{"prompt_tokens":999}',
      'ends in a backslash \\',
      'quote \\" then "usage":{"prompt_tokens":999}',
      '\\\\"usage":{"prompt_tokens":999}',
      '}]},"usage":{"prompt_tokens":999},{[',
    ];
    for (const content of fakes) {
      const body = openaiAnswer('{"prompt_tokens":7,"completion_tokens":1}', content);
      expect(usageOfRelayedAnswer('openai-chat', bytes(body)), content).toEqual(parsedUsage('openai-chat', body));
      expect(usageOfRelayedAnswer('openai-chat', bytes(body))?.inputTokens).toBe(7);
    }
    // the text "usage" as a value, and as the last member
    const valueNotKey = '{"model":"m","note":"usage","tag":["usage"],"usage":{"prompt_tokens":3}}';
    expect(usageOfRelayedAnswer('openai-chat', bytes(valueNotKey))?.inputTokens).toBe(3);
  });

  it('ignores a nested usage and reports none when the top level has none', () => {
    const nestedOnly = '{"choices":[{"message":{"usage":{"prompt_tokens":5}}}],"meta":{"usage":{"prompt_tokens":6}}}';
    expect(scanTopLevelUsage(bytes(nestedOnly))).toEqual({ kind: 'absent' });
    expect(usageOfRelayedAnswer('openai-chat', bytes(nestedOnly))).toBeUndefined();
    const both = '{"usage":{"prompt_tokens":1},"meta":{"usage":{"prompt_tokens":6}}}';
    expect(usageOfRelayedAnswer('openai-chat', bytes(both))?.inputTokens).toBe(1);
  });

  it('agrees with the parser on a repeated key (the last wins) and hands escaped keys to the parser', () => {
    const repeated = '{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}';
    expect(usageOfRelayedAnswer('openai-chat', bytes(repeated))).toEqual(parsedUsage('openai-chat', repeated));
    // `us\u0061ge` is `usage` to a parser: the scan must not skip it and report the earlier one
    const escaped = '{"usage":{"prompt_tokens":1},"us\\u0061ge":{"prompt_tokens":2}}';
    expect(scanTopLevelUsage(bytes(escaped))).toEqual({ kind: 'unknown' });
    expect(usageOfRelayedAnswer('openai-chat', bytes(escaped))?.inputTokens).toBe(2);
  });

  it('reads a huge answer only from its end, and parses it whole when the usage is out of reach', () => {
    const long = 'x'.repeat(2 * 1024 * 1024);
    const usageLast = openaiAnswer('{"prompt_tokens":11}', long);
    expect(scanTopLevelUsage(bytes(usageLast)).kind).toBe('found');
    const usageFirst = `{"usage":{"prompt_tokens":13},"choices":[{"message":{"content":"${long}"}}]}`;
    expect(scanTopLevelUsage(bytes(usageFirst))).toEqual({ kind: 'unknown' });
    expect(usageOfRelayedAnswer('openai-chat', bytes(usageFirst))?.inputTokens).toBe(13);
    const noneAtAll = `{"choices":[{"message":{"content":"${long}"}}]}`;
    expect(usageOfRelayedAnswer('openai-chat', bytes(noneAtAll))).toBeUndefined();
    // a string longer than the window, ending right before the usage
    const justInside = `{"a":"${'y'.repeat(usageScanBytes)}","usage":{"prompt_tokens":17}}`;
    expect(usageOfRelayedAnswer('openai-chat', bytes(justInside))?.inputTokens).toBe(17);
  });

  it('matches a full parse on generated answers (keys, strings with escapes, nesting, whitespace)', () => {
    let seed = 42;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x80000000);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const strings = ['usage', '"usage":{', '\\', '}', ']', ':', ',', '{', 'é✓', 'a\nb', '"', 'us\\u0061ge'];
    const value = (depth: number): unknown => {
      const kind = random();
      if (depth > 3 || kind < 0.3) return pick(strings) + pick(strings);
      if (kind < 0.45) return Math.floor(random() * 100);
      if (kind < 0.55) return null;
      if (kind < 0.75) return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
      const object: Record<string, unknown> = {};
      for (let count = Math.floor(random() * 4); count > 0; count--) object[pick(['usage', 'a', 'b', 'text'])] = value(depth + 1);
      return object;
    };
    for (let round = 0; round < 500; round++) {
      const answer = value(1) as Record<string, unknown>;
      const top = typeof answer === 'object' && answer !== null && !Array.isArray(answer) ? answer : { a: answer };
      if (random() < 0.6) top.usage = { prompt_tokens: Math.floor(random() * 50), completion_tokens: 1 };
      const body = random() < 0.5 ? JSON.stringify(top) : JSON.stringify(top, undefined, pick([1, 2, '\t']));
      expect(usageOfRelayedAnswer('openai-chat', bytes(body)), body).toEqual(parsedUsage('openai-chat', body));
    }
  });
});
