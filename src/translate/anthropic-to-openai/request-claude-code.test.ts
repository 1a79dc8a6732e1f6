import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AnthropicContentBlock, AnthropicMessagesRequest } from '../../formats/anthropic/messages-request.js';
import { openAIUserMaxLength, translateAnthropicRequestToOpenAI, userIdMaxLength } from './request.js';
import { thrown } from '../../../test/helpers/translator-testing.js';

/**
 * What Claude Code (2.1.x) sends that other Anthropic clients do not: a `system` message inside
 * `messages` (its environment section, after the first user turn) and a `metadata.user_id` of about
 * 150 characters (a JSON object of device, account and session ids), beside fields OpenAI has no
 * counterpart for (`thinking: {type: "adaptive"}`, `context_management`, `output_config`, tools with
 * `defer_loading`, `cache_control` on system blocks).
 */
const digestUserId = (userId: string): string => createHash('sha256').update(userId, 'utf8').digest('hex');
const options = { upstreamModel: 'gpt-4o-mini', digestUserId };

/** The shape of Claude Code's user_id: a JSON text, about 150 characters. */
const claudeCodeUserId = JSON.stringify({ device_id: 'd'.repeat(64), account_uuid: '', session_id: '00000000-0000-4000-8000-000000000001' });

/** A block the schema passes through as an "other" block. */
const thinkingBlock: AnthropicContentBlock = { type: 'thinking', ...{ thinking: 'hmm', signature: 's' } };

function request(overrides: Partial<AnthropicMessagesRequest>): AnthropicMessagesRequest {
  return { model: 'sonnet', max_tokens: 128_000, messages: [{ role: 'user', content: 'Hi' }], ...overrides };
}

describe('Anthropic → OpenAI: what Claude Code sends', () => {
  it('turns a system message inside messages into a system message at the same position', () => {
    const body = request({
      system: [{ type: 'text', text: 'You are an agent.', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: '<system-reminder>context</system-reminder>' }, { type: 'text', text: 'say hello' }] },
        { role: 'system', content: [{ type: 'text', text: '# Environment\nPlatform: linux', cache_control: { type: 'ephemeral' } }] },
        { role: 'assistant', content: 'hello' },
        { role: 'system', content: 'Plain string form.' },
        { role: 'user', content: 'again' },
      ],
    });
    expect(translateAnthropicRequestToOpenAI(body, options).messages).toEqual([
      { role: 'system', content: 'You are an agent.' },
      { role: 'user', content: '<system-reminder>context</system-reminder>\n\nsay hello' },
      { role: 'system', content: '# Environment\nPlatform: linux' },
      { role: 'assistant', content: 'hello' },
      { role: 'system', content: 'Plain string form.' },
      { role: 'user', content: 'again' },
    ]);
  });

  it('refuses an image in a system message, naming where, and drops a system message left empty', () => {
    const withImage = request({
      messages: [{ role: 'system', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] }],
    });
    const error = thrown(() => translateAnthropicRequestToOpenAI(withImage, options));
    expect(error.code).toBe('GW_UNSUPPORTED_CONTENT');
    expect(error.message).toContain('messages[0].content[0]');
    const onlyThinking = request({
      messages: [{ role: 'user', content: 'q' }, { role: 'system', content: [thinkingBlock] }],
    });
    expect(translateAnthropicRequestToOpenAI(onlyThinking, options).messages).toEqual([{ role: 'user', content: 'q' }]);
  });

  it('drops what OpenAI has no counterpart for: thinking, context_management, output_config, defer_loading', () => {
    const deferredTool = { name: 'Read', description: 'Reads a file.', input_schema: { type: 'object' }, defer_loading: true };
    const body = {
      ...request({ tools: [deferredTool] }),
      thinking: { type: 'adaptive', display: 'omitted' },
      context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
      output_config: { effort: 'medium' },
    } as AnthropicMessagesRequest;
    const result = translateAnthropicRequestToOpenAI(body, options);
    expect(Object.keys(result).sort()).toEqual(['max_tokens', 'messages', 'model', 'tools']);
    expect(result.tools).toEqual([{ type: 'function', function: { name: 'Read', description: 'Reads a file.', parameters: { type: 'object' } } }]);
  });

  it('passes a short metadata.user_id as user unchanged', () => {
    expect(translateAnthropicRequestToOpenAI(request({ metadata: { user_id: 'user-hash-0001' } }), options).user).toBe('user-hash-0001');
    const atLimit = 'u'.repeat(openAIUserMaxLength);
    expect(translateAnthropicRequestToOpenAI(request({ metadata: { user_id: atLimit } }), options).user).toBe(atLimit);
  });

  it("maps Claude Code's long user_id to a stable short form OpenAI accepts", () => {
    expect(claudeCodeUserId.length).toBeGreaterThan(openAIUserMaxLength);
    const first = translateAnthropicRequestToOpenAI(request({ metadata: { user_id: claudeCodeUserId } }), options).user;
    const again = translateAnthropicRequestToOpenAI(request({ metadata: { user_id: claudeCodeUserId } }), options).user;
    const other = translateAnthropicRequestToOpenAI(request({ metadata: { user_id: `${claudeCodeUserId} ` } }), options).user;
    expect(first).toBe(`sha256-${digestUserId(claudeCodeUserId).slice(0, 32)}`);
    expect(first!.length).toBeLessThanOrEqual(openAIUserMaxLength);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(first).not.toContain('device_id');
  });

  it('refuses an absurd user_id (too long, or with control characters) with a 400 naming the field', () => {
    for (const userId of ['x'.repeat(userIdMaxLength + 1), 'alice\nINJECTED log line', 'bob\u0000', 'carol\u007f', 'dan\u0085']) {
      const error = thrown(() => translateAnthropicRequestToOpenAI(request({ metadata: { user_id: userId } }), options));
      expect(error.code).toBe('GW_INVALID_REQUEST');
      expect(error.status).toBe(400);
      expect(error.message).toContain('metadata.user_id');
      expect(error.message).not.toContain('INJECTED');
    }
    const atLimit = 'x'.repeat(userIdMaxLength);
    expect(translateAnthropicRequestToOpenAI(request({ metadata: { user_id: atLimit } }), options).user).toMatch(/^sha256-[0-9a-f]{32}$/);
  });
});
