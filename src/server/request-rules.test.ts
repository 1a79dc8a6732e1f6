import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../errors/gateway-error.js';
import { AnthropicMessagesRequest } from '../formats/anthropic/messages-request.js';
import { enforceMessageCount, knownTopLevelFields, refuseUnknownFields } from './request-rules.js';

function messageOf(action: () => void): string {
  try {
    action();
  } catch (error) {
    if (isGatewayError(error) && error.code === 'GW_INVALID_REQUEST') return error.message;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('enforceMessageCount', () => {
  it('refuses a list longer than the bound, naming the field and the setting', () => {
    expect(messageOf(() => enforceMessageCount({ contents: [1, 2, 3] }, 'contents', 2))).toBe(
      "Invalid request: contents: 3 entries is more than this gateway's limit of 2 (server.validation.max_messages).",
    );
  });

  it('leaves a list at the bound, a missing list and a non-list to the schema', () => {
    for (const body of [{ messages: [1, 2] }, {}, { messages: 'x' }, null, [1, 2, 3]]) expect(() => enforceMessageCount(body, 'messages', 2)).not.toThrow();
  });
});

describe('strict: unknown top-level fields', () => {
  const known = knownTopLevelFields(AnthropicMessagesRequest);

  it('knows every field the schema declares', () => {
    expect([...known]).toEqual(expect.arrayContaining(['model', 'messages', 'max_tokens', 'metadata', 'tools']));
    expect(knownTopLevelFields(Type.String()).size).toBe(0);
    const union = Type.Union([Type.Object({ contents: Type.Array(Type.String()) }), Type.Object({ generateContentRequest: Type.Object({}) })]);
    expect([...knownTopLevelFields(union)].sort()).toEqual(['contents', 'generateContentRequest']);
  });

  it('refuses the first unknown field by name, cut to 64 characters', () => {
    const name = `x${'y'.repeat(100)}`;
    const message = messageOf(() => refuseUnknownFields({ model: 'm', [name]: 1 }, known));
    expect(message).toContain(`unknown field '${name.slice(0, 64)}'`);
    expect(message).not.toContain(name.slice(0, 65));
    expect(() => refuseUnknownFields({ model: 'm', max_tokens: 1, messages: [] }, known)).not.toThrow();
  });
});
