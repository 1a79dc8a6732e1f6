/**
 * Gemini's function `parameters` use the OpenAPI subset with upper-case type names (`OBJECT`,
 * `STRING`, …); OpenAI and Anthropic take JSON Schema with lower-case ones. Kept here, beside the
 * wire types, because both gemini-to-openai and gemini-to-anthropic need it and one translator
 * never imports another. Pure.
 */
export function geminiSchemaToJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(geminiSchemaToJsonSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type' && typeof value === 'string') converted[key] = value.toLowerCase();
    else if (key === 'properties' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      // Property names are the tool's own: never treated as schema keywords.
      const properties: Record<string, unknown> = {};
      for (const [name, property] of Object.entries(value as Record<string, unknown>)) properties[name] = geminiSchemaToJsonSchema(property);
      converted[key] = properties;
    } else if (key === 'nullable') {
      // OpenAPI's `nullable: true` has no JSON Schema keyword of its own; a type list says the same.
      continue;
    } else converted[key] = typeof value === 'object' ? geminiSchemaToJsonSchema(value) : value;
  }
  if ((schema as { nullable?: unknown }).nullable === true && typeof converted.type === 'string') converted.type = [converted.type, 'null'];
  return converted;
}

/** The JSON Schema of a declaration: `parametersJsonSchema` as given, else `parameters` converted, else an empty object schema. */
export function declarationJsonSchema(declaration: { parameters?: Record<string, unknown>; parametersJsonSchema?: Record<string, unknown> }): Record<string, unknown> {
  if (declaration.parametersJsonSchema !== undefined) return declaration.parametersJsonSchema;
  if (declaration.parameters !== undefined) return geminiSchemaToJsonSchema(declaration.parameters) as Record<string, unknown>;
  return { type: 'object', properties: {} };
}

/**
 * The stable id of a function call that came without one: Gemini has no call ids, OpenAI and
 * Anthropic require them. Derived from the position (turn and part index), so the same history gives
 * the same ids on every request, and a functionResponse finds its call by name in the turn before.
 */
export function synthesisedCallId(turnIndex: number, partIndex: number): string {
  return `call_gemini_${turnIndex}_${partIndex}`;
}

/**
 * The id of every functionCall and functionResponse part, as `ids[turn][part]` (undefined for other
 * parts). A call keeps its own `id` when the client sent one, else gets `synthesisedCallId`; a
 * response without an `id` takes the oldest unanswered call of the same name (Gemini answers calls
 * by name, in order). A response that matches no call keeps a synthesised id of its own position,
 * and the translator refuses it (an upstream would reject an orphan tool result less clearly).
 */
export function functionCallIds(contents: readonly { parts: readonly { functionCall?: { name: string; id?: string }; functionResponse?: { name: string; id?: string } }[] }[]): {
  ids: (string | undefined)[][];
  orphanResponses: string[];
} {
  const unanswered: { name: string; id: string }[] = [];
  const orphanResponses: string[] = [];
  const ids = contents.map((content, turnIndex) =>
    content.parts.map((part, partIndex) => {
      if (part.functionCall !== undefined) {
        const id = part.functionCall.id ?? synthesisedCallId(turnIndex, partIndex);
        unanswered.push({ name: part.functionCall.name, id });
        return id;
      }
      if (part.functionResponse === undefined) return undefined;
      const { name, id } = part.functionResponse;
      const at = unanswered.findIndex((call) => (id === undefined ? call.name === name : call.id === id));
      if (at === -1) {
        orphanResponses.push(name);
        return id ?? synthesisedCallId(turnIndex, partIndex);
      }
      return (unanswered.splice(at, 1)[0] as { id: string }).id;
    }),
  );
  return { ids, orphanResponses };
}
