import { describe, expect, it } from 'vitest';
import { jsonSchemaToGeminiSchema } from './json-schema-to-gemini.js';

describe('jsonSchemaToGeminiSchema', () => {
  it('drops keywords Gemini refuses, upper-cases types, keeps property names that look like keywords', () => {
    expect(
      jsonSchemaToGeminiSchema({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        additionalProperties: false,
        propertyNames: { pattern: '^[a-z]+$' },
        properties: { type: { type: 'string', format: 'email', examples: ['a'] }, $ref: { type: 'integer', format: 'int64' }, when: { type: 'string', format: 'date-time' } },
        required: ['type', 'nope'],
      }),
    ).toEqual({
      type: 'OBJECT',
      properties: { type: { type: 'STRING' }, $ref: { type: 'INTEGER', format: 'int64' }, when: { type: 'STRING', format: 'date-time' } },
      required: ['type'],
    });
  });

  it('inlines local $refs, ends recursion, turns oneOf and nullable unions into anyOf and nullable', () => {
    const converted = jsonSchemaToGeminiSchema({
      type: 'object',
      $defs: { node: { type: 'object', properties: { child: { $ref: '#/$defs/node' }, label: { oneOf: [{ type: 'string' }, { type: 'null' }] } } } },
      properties: { root: { $ref: '#/$defs/node', description: 'the tree' }, choice: { anyOf: [{ type: 'string' }, { type: 'number' }] }, remote: { $ref: 'https://example.test/schema' } },
    });
    const root = (converted['properties'] as Record<string, Record<string, unknown>>)['root'] as Record<string, unknown>;
    expect(root['description']).toBe('the tree');
    expect((root['properties'] as Record<string, unknown>)['label']).toEqual({ type: 'STRING', nullable: true });
    expect(JSON.stringify(converted)).not.toContain('$ref');
    expect(JSON.stringify(converted).length).toBeLessThan(20_000); // recursion bounded
    expect((converted['properties'] as Record<string, unknown>)['choice']).toEqual({ anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] });
    expect((converted['properties'] as Record<string, unknown>)['remote']).toEqual({});
  });

  it('makes enums strings, const a one-value enum, and an array without items valid', () => {
    expect(jsonSchemaToGeminiSchema({ type: 'object', properties: { n: { enum: [1, 2, null] }, c: { const: true }, list: { type: 'array' } } })).toEqual({
      type: 'OBJECT',
      properties: { n: { type: 'STRING', enum: ['1', '2'] }, c: { type: 'STRING', enum: ['true'] }, list: { type: 'ARRAY', items: {} } },
    });
  });
});
