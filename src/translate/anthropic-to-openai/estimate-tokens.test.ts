import { describe, expect, it } from 'vitest';
import type { AnthropicContentBlock, AnthropicCountTokensRequest, AnthropicMessagesRequest } from '../../formats/anthropic/messages-request.js';
import {
  estimateAnthropicInputTokens,
  estimateTextTokens,
  estimatedBaseTokens,
  estimatedTokensPerImage,
  estimatedTokensPerMessage,
  estimatedTokensPerTool,
} from './estimate-tokens.js';

/** A block the schema passes through as an "other" block (thinking, document, …). */
const otherBlock = (fields: { type: string } & Record<string, unknown>): AnthropicContentBlock => fields;

describe('estimateTextTokens', () => {
  it('counts ceil(UTF-8 bytes / 4), not characters', () => {
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('abcd')).toBe(1);
    expect(estimateTextTokens('abcde')).toBe(2);
    // 3 characters, 9 UTF-8 bytes.
    expect(estimateTextTokens('日本語')).toBe(3);
    // 1 character, 4 UTF-8 bytes (a surrogate pair in JavaScript).
    expect(estimateTextTokens('😀')).toBe(1);
  });
});

describe('estimateAnthropicInputTokens', () => {
  const requestWithImage = (imageData: string): AnthropicMessagesRequest => ({
    model: 'sonnet',
    max_tokens: 100,
    system: 'Be brief.', // 9 bytes
    messages: [
      { role: 'user', content: 'Hello there' }, // 11 bytes
      {
        role: 'assistant',
        content: [
          otherBlock({ type: 'thinking', thinking: 'this is dropped by translation, so it counts nothing', signature: 's' }),
          { type: 'text', text: 'Sure' }, // 4 bytes
          { type: 'tool_use', id: 'toolu_1', name: 'ls', input: { path: '/tmp' } }, // 2 + 15 bytes ({"path":"/tmp"})
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.txt' }, // 5 bytes, its own tool message
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: imageData } },
        ],
      },
    ],
    tools: [{ name: 'ls', description: 'List files', input_schema: { type: 'object' } }], // 2 + 10 + 17 bytes
  });
  const request = requestWithImage('QUJDRA=='.repeat(1000));

  it('sums text bytes / 4 plus documented per-message, per-tool and per-image overheads', () => {
    const bytes = 9 + 11 + 4 + 2 + 15 + 5 + 2 + 10 + 17;
    const overhead =
      estimatedBaseTokens +
      estimatedTokensPerMessage * 4 + // system + three messages
      estimatedTokensPerMessage + // the tool_result's own tool message
      estimatedTokensPerImage +
      estimatedTokensPerTool;
    expect(estimateAnthropicInputTokens(request)).toBe(overhead + Math.ceil(bytes / 4));
    expect(estimateAnthropicInputTokens(request)).toBe(1650);
  });

  it('counts an image as a fixed estimate whatever its base64 size', () => {
    const small = requestWithImage('QQ==');
    expect(estimateAnthropicInputTokens(small)).toBe(estimateAnthropicInputTokens(request));
  });

  it('accepts a count_tokens request (no max_tokens) and counts system text blocks', () => {
    const countRequest: AnthropicCountTokensRequest = {
      model: 'sonnet',
      system: [
        { type: 'text', text: 'abcd' },
        { type: 'text', text: 'efgh' },
      ],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'ijkl' }] }],
    };
    expect(estimateAnthropicInputTokens(countRequest)).toBe(estimatedBaseTokens + 2 * estimatedTokensPerMessage + 3);
  });

  it('counts tool results given as text blocks and unknown blocks by their JSON size, without throwing', () => {
    const countRequest: AnthropicCountTokensRequest = {
      model: 'sonnet',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: '12345678' }] },
            otherBlock({ type: 'document', source: 'x' }), // {"type":"document","source":"x"} = 32 bytes
          ],
        },
      ],
      tools: [{ name: 'web_search', type: 'web_search_20250305' }], // {"name":"web_search","type":"web_search_20250305"} = 50 bytes
    };
    const bytes = 8 + 32 + 50;
    expect(estimateAnthropicInputTokens(countRequest)).toBe(
      estimatedBaseTokens + 2 * estimatedTokensPerMessage + estimatedTokensPerTool + Math.ceil(bytes / 4),
    );
  });

  it('grows with the text: a 4,000-byte message adds about 1,000 tokens', () => {
    const base = estimateAnthropicInputTokens({ model: 'm', messages: [{ role: 'user', content: '' }] });
    const large = estimateAnthropicInputTokens({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(4000) }] });
    expect(large - base).toBe(1000);
  });
});
