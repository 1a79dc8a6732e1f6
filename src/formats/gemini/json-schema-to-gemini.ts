/**
 * JSON Schema (an OpenAI function's `parameters`, an Anthropic tool's `input_schema`) → Gemini's
 * function `parameters`, the OpenAPI 3.0 subset it accepts. Gemini refuses the whole request (400
 * "Invalid JSON payload received. Unknown name …") for a keyword outside that subset, and real
 * clients send many (Claude Code's tools carry `$schema`, `additionalProperties`, `propertyNames`,
 * `exclusiveMinimum`; zod-made schemas `$ref`/`$defs`). So:
 * - kept: the keywords Gemini's Schema knows, with `type` upper-cased (`OBJECT`, `STRING`, …);
 * - rewritten: a type list with `null` → one type + `nullable: true`; `const` → a one-value `enum`;
 *   enum values → strings (Gemini enums are strings); local `$ref`s (`#/$defs/x`,
 *   `#/definitions/x`) inlined, at most `maxRefDepth` deep (recursion ends in an empty schema);
 *   `oneOf` → `anyOf`; `exclusiveMinimum`/`exclusiveMaximum` numbers → `minimum`/`maximum`;
 * - dropped: everything else (`$schema`, `$id`, `additionalProperties`, `patternProperties`,
 *   `propertyNames`, `examples`, `allOf`, `not`, `if`, string `format`s other than `enum` and
 *   `date-time`…): a hint lost, never a request refused.
 * Pure; property names are the tool's own and never read as keywords.
 */

const maxRefDepth = 8;

const copiedKeywords = new Set(['title', 'description', 'nullable', 'required', 'minItems', 'maxItems', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'minProperties', 'maxProperties', 'default', 'example', 'propertyOrdering']);

/** String formats Gemini accepts; number formats pass as they are (`int32`, `int64`, `float`, `double`). */
const stringFormats = new Set(['enum', 'date-time']);
const numberFormats = new Set(['int32', 'int64', 'float', 'double']);

type Schema = Record<string, unknown>;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function jsonSchemaToGeminiSchema(schema: unknown): Schema {
  const root = isSchema(schema) ? schema : {};
  return convert(root, root, 0);
}

/** Gemini enums are strings: a number or boolean as its text, an object or array as its JSON. */
function enumValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function resolveRef(root: Schema, reference: string): Schema | undefined {
  const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(reference);
  if (match === null) return undefined;
  const definitions = root[match[1] as string];
  const target = isSchema(definitions) ? definitions[decodeURIComponent(match[2] as string)] : undefined;
  return isSchema(target) ? target : undefined;
}

function convert(schema: Schema, root: Schema, refDepth: number): Schema {
  if (typeof schema['$ref'] === 'string') {
    const target = refDepth < maxRefDepth ? resolveRef(root, schema['$ref']) : undefined;
    // Sibling keywords of $ref (a description) are kept over the target's.
    return target === undefined ? {} : { ...convert(target, root, refDepth + 1), ...convert({ ...schema, $ref: undefined }, root, refDepth) };
  }
  const converted: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (value === undefined) continue;
    if (copiedKeywords.has(key)) converted[key] = value;
  }
  const type = schema['type'];
  const types = Array.isArray(type) ? type.filter((entry): entry is string => typeof entry === 'string') : typeof type === 'string' ? [type] : [];
  const nonNull = types.filter((entry) => entry !== 'null');
  if (nonNull.length > 0) converted['type'] = (nonNull[0] as string).toUpperCase();
  if (types.includes('null')) converted['nullable'] = true;
  if (nonNull.length > 1) {
    // Several types: Gemini has no type list, so each becomes an alternative.
    delete converted['type'];
    converted['anyOf'] = nonNull.map((entry) => ({ type: entry.toUpperCase() }));
  }
  if (typeof schema['format'] === 'string' && (stringFormats.has(schema['format']) || numberFormats.has(schema['format']))) converted['format'] = schema['format'];
  if (Array.isArray(schema['enum'])) converted['enum'] = schema['enum'].filter((entry) => entry !== null).map(enumValue);
  if (schema['const'] !== undefined && schema['const'] !== null) converted['enum'] = [enumValue(schema['const'])];
  if (converted['enum'] !== undefined && converted['type'] === undefined) converted['type'] = 'STRING';
  if (typeof schema['exclusiveMinimum'] === 'number' && converted['minimum'] === undefined) converted['minimum'] = schema['exclusiveMinimum'];
  if (typeof schema['exclusiveMaximum'] === 'number' && converted['maximum'] === undefined) converted['maximum'] = schema['exclusiveMaximum'];
  if (isSchema(schema['properties'])) {
    const properties: Schema = {};
    for (const [name, property] of Object.entries(schema['properties'])) properties[name] = isSchema(property) ? convert(property, root, refDepth) : {};
    converted['properties'] = properties;
    if (converted['type'] === undefined) converted['type'] = 'OBJECT';
  }
  if (Array.isArray(converted['required']) && isSchema(converted['properties'])) {
    // Gemini refuses a required name that is not a property.
    const names = converted['properties'];
    converted['required'] = (converted['required'] as unknown[]).filter((name) => typeof name === 'string' && Object.hasOwn(names, name));
  } else delete converted['required'];
  if (isSchema(schema['items'])) converted['items'] = convert(schema['items'], root, refDepth);
  else if (converted['type'] === 'ARRAY') converted['items'] = {};
  const alternatives = Array.isArray(schema['anyOf']) ? schema['anyOf'] : Array.isArray(schema['oneOf']) ? schema['oneOf'] : undefined;
  if (alternatives !== undefined) {
    const kept = alternatives.filter(isSchema).filter((alternative) => alternative['type'] !== 'null');
    if (kept.length < alternatives.length) converted['nullable'] = true;
    if (kept.length === 1) Object.assign(converted, convert(kept[0] as Schema, root, refDepth));
    else if (kept.length > 1) converted['anyOf'] = kept.map((alternative) => convert(alternative, root, refDepth));
  }
  return converted;
}
